// RULES 50: the time left before an incident's notification is due (its notifyBy, detectedAt +
// incidents.notifyWithinHours), as the incidents page shows it.
export interface TimeLeft { text: string; hours: number; overdue: boolean }

export function timeLeft(notifyBy: string, now: number): TimeLeft {
  const ms = Date.parse(notifyBy) - now;
  if (!Number.isFinite(ms)) return { text: 'unknown', hours: 0, overdue: true };
  const abs = Math.abs(ms);
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const span = `${h} h ${String(m).padStart(2, '0')} min`;
  return ms > 0 ? { text: `${span} left`, hours: ms / 3_600_000, overdue: false } : { text: `overdue by ${span}`, hours: ms / 3_600_000, overdue: true };
}
