// ISO 3166-1 alpha-2 check without shipping a table: ICU (full in Node 20) names every assigned
// region code and echoes unknown ones back. Macro-region and private-use codes are not countries.
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'QO', 'XA', 'XB', 'ZZ']);
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

// Asked on every transfer log entry (destination countries): ICU lookups are slow, answers fixed.
const known = new Map<string, boolean>();

export function isCountryCode(code: string): boolean {
  if (!/^[A-Z]{2}$/.test(code) || NOT_COUNTRIES.has(code)) return false;
  let ok = known.get(code);
  if (ok === undefined) {
    try {
      ok = regionNames.of(code) !== code;
    } catch {
      ok = false;
    }
    known.set(code, ok); // at most 26 * 26 entries
  }
  return ok;
}
