// RULES 8: correspondence metadata caught by value, not only by key name. "By value" means: a
// value taken from the record's own letters (every correspondence pointer) that identifies a
// letter, its parties or its moment, found anywhere in the output in any spelling:
//   - any letter string of 4+ characters, compared case-, width- and whitespace-insensitively
//     (subjects, bodies, counterparts, conversation ids as strings);
//   - each e-mail address and <message-id> inside a letter string, on its own ("Bob <b@x.kz>"
//     leaks as "b@x.kz"; "<id@mail>" as "id@mail");
//   - each letter timestamp (ISO date-time, or epoch seconds/milliseconds as a number), matched
//     against output date-times, epoch numbers and 10/13-digit runs at the output's own precision
//     (seconds, or minutes when the output has none) -- a day alone is not a message timestamp,
//     so generalised visit dates pass;
//   - each numeric id of 5+ digits (conversation or counterpart ids), as a number or digit run.
// Counts and read flags (small numbers, booleans) say nothing by value; RULES 8 catches them by
// key name in egress-guard.ts.
import { parseInstant } from './instant.ts';

export const MIN_NEEDLE_LENGTH = 4; // shorter strings ("ok", "Hi") would match innocent output by chance
const MIN_ID_DIGITS = 5;
const SEP = '\u0000';

/** One spelling for comparison: NFKC, lower case, runs of whitespace as one space. */
export function normalise(s: string): string {
  // Printable ASCII needs no NFKC; most values are, and the guard runs on every record.
  const n = /^[\x00\x20-\x7e]*$/.test(s) ? (s.includes('  ') ? s.replace(/ {2,}/g, ' ') : s).trim() : s.normalize('NFKC').replace(/\s+/g, ' ').trim();
  return n.toLowerCase();
}

const ADDRESS = /[^\s<>"'(),;:[\]]+@[^\s<>"'(),;:[\]]+/g;
const BRACKETED = /<([^<>\s]{4,})>/g;
// A date-time with at least minutes; its seconds tell the precision to compare at.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?/;
const EPOCH_S = [1e9, 1e10] as const; // 2001-09-09 .. 2286: a plausible epoch in seconds
const EPOCH_MS = [1e12, 1e13] as const;

export interface LetterValues {
  strings: Set<string>;
  /** Letter instants, in whole seconds since the epoch (read `instants(letters)`: some may be pending). */
  seconds: Set<number>;
  ids: Set<string>;
  /**
   * Issue 17 item 4: letter date-time strings not parsed yet. Most outputs carry nothing an instant
   * could match (no date-time, no epoch-sized number or digit run), so they are parsed on first need.
   */
  pending?: string[];
}

/** The letters' instants, parsing any still pending. */
function instants(letters: LetterValues): Set<number> {
  if (letters.pending?.length) {
    for (const v of letters.pending) {
      const t = parseInstant(v);
      if (t !== null) letters.seconds.add(Math.floor(t / 1000));
    }
    letters.pending.length = 0;
  }
  return letters.seconds;
}

/** Whether the letters may hold any instant (pending ones count until parsed). */
const mayHaveInstants = (letters: LetterValues) => letters.seconds.size > 0 || (letters.pending?.length ?? 0) > 0;

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The dates (+-1 day for zones) an output date-time of a letter's instant can carry; other date-times are not parsed. */
function daysOf(seconds: ReadonlySet<number>): Set<string> {
  const out = new Set<string>();
  for (const t of seconds) for (const d of [-1, 0, 1]) out.add(utcDay(t * 1000 + d * 86_400_000));
  return out;
}

const epochSeconds = (n: number): number | null => {
  if (n >= EPOCH_S[0] && n < EPOCH_S[1]) return Math.floor(n);
  if (n >= EPOCH_MS[0] && n < EPOCH_MS[1]) return Math.floor(n / 1000);
  return null;
};

/** The values of one letter string / number that identify it (see the header). */
export function addLetterValue(v: string | number, into: LetterValues): void {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return;
    const t = epochSeconds(v);
    if (t !== null) into.seconds.add(t);
    if (String(Math.abs(v)).length >= MIN_ID_DIGITS) into.ids.add(String(Math.abs(v)));
    return;
  }
  const n = normalise(v);
  if (n.length >= MIN_NEEDLE_LENGTH) into.strings.add(n);
  if (n.includes('@')) for (const m of n.matchAll(ADDRESS)) into.strings.add(m[0].replace(/\.+$/, ''));
  if (n.includes('<')) for (const m of n.matchAll(BRACKETED)) into.strings.add(m[1]!);
  if (DATE_TIME.test(v)) (into.pending ??= []).push(v);
  if (/^\d+$/.test(v) && v.length >= MIN_ID_DIGITS) into.ids.add(v.replace(/^0+(?=\d)/, ''));
}

/** Does any output string or number carry one of the letters' values? */
export function carriesLetterValue(strings: readonly string[], numbers: readonly number[], letters: LetterValues): boolean {
  if (letters.strings.size) {
    const haystack = normalise(strings.join(SEP)); // SEP keeps a needle from spanning two strings
    for (const n of letters.strings) if (n.length >= MIN_NEEDLE_LENGTH && haystack.includes(n)) return true;
  }
  const atSecond = (t: number) => instants(letters).has(t);
  for (const x of numbers) {
    if (!Number.isInteger(x)) continue;
    const t = epochSeconds(x);
    if (t !== null && atSecond(t)) return true;
    if (letters.ids.has(String(Math.abs(x)))) return true;
  }
  // Issue 17 item 4: the letters' days are built only when an output string is a date-time at all
  // (most outputs carry none); the same test as before, in the cheaper order.
  let days: Set<string> | undefined;
  for (const s of strings) {
    let m = mayHaveInstants(letters) ? DATE_TIME.exec(s) : null;
    if (m && !(days ??= daysOf(instants(letters))).has(s.slice(0, 10))) m = null;
    // A date-time without a zone still names the moment; read it as UTC (the stores' own zone).
    const t = m ? (parseInstant(s) ?? (/[Zz]|[+-]\d{2}:\d{2}$/.test(s) ? null : parseInstant(`${s}Z`))) : null;
    if (t !== null) {
      const unit = m![1] === undefined ? 60 : 1; // compare at the output's precision
      const here = Math.floor(t / 1000 / unit);
      for (const l of instants(letters)) if (Math.floor(l / unit) === here) return true;
    }
    if (letters.ids.size) {
      for (const run of s.match(/\d{5,}/g) ?? []) if (letters.ids.has(run.replace(/^0+(?=\d)/, ''))) return true;
    }
    if (mayHaveInstants(letters)) {
      for (const run of s.match(/(?<!\d)(?:\d{13}|\d{10})(?!\d)/g) ?? []) {
        const e = epochSeconds(Number(run));
        if (e !== null && atSecond(e)) return true;
      }
    }
  }
  return false;
}
