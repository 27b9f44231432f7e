// Released seqs of a page receipt as ranges ("5-9,11"): a page of 1000 mostly-released entries
// stays a few bytes instead of a thousand numbers (issue 15 item 4: keep receipts small).
export function encodeRanges(seqs: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < seqs.length;) {
    let j = i;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j]! + 1) j++;
    out.push(j === i ? String(seqs[i]) : `${seqs[i]}-${seqs[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** null when malformed, descending, or wider than `max` seqs (a receipt never names more). */
export function decodeRanges(text: string, max = 100_000): number[] | null {
  if (text === '') return [];
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^([1-9][0-9]{0,14})(?:-([1-9][0-9]{0,14}))?$/.exec(part);
    if (!m) return null;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || (out.length && a <= out[out.length - 1]!) || out.length + (b - a + 1) > max) return null;
    for (let s = a; s <= b; s++) out.push(s);
  }
  return out;
}
