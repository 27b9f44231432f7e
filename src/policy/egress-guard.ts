// RULES 9 (DESIGN 3): the last check before release. Every string in the projected data, keys
// included, is searched for the record's own correspondence strings and for configured canaries;
// keys named like correspondence metadata are refused too, and the letters' metadata is looked
// for by value in any spelling (RULES 8, correspondence-values.ts). A hit aborts that record.
import { deny, type Denial } from './denial.ts';
import { readPointer, type Pointer } from './json-pointer.ts';
import { correspondencePointers, type FieldMapConfig } from './field-map.ts';
import { MIN_NEEDLE_LENGTH, addLetterValue, carriesLetterValue, type LetterValues } from './correspondence-values.ts';

export { MIN_NEEDLE_LENGTH };

export interface EgressGuardOptions {
  fieldMap: FieldMapConfig;
  /** Seeded canary strings (RULES 9); empty ones are ignored. */
  canaries?: readonly string[];
}

/** Checks projected `data` (not the response envelope, whose `subject` key is expected). */
export type EgressGuard = (data: unknown, record: unknown) => Denial | null;

const MAX_DEPTH = 64;
const SEP = '\u0000';

// RULES 8: conversation ids, counterparts, message timestamps, counts, read status, content keys.
const META_KEY = /correspond|conversation|message|thread|inbox|mailbox|chat|counterpart|attachment|unread|readstatus|sender|recipient|^isread$|^readat$|^read$|^subject$|^body$/;
export const isCorrespondenceKey = (key: string) => META_KEY.test(key.toLowerCase().replace(/[^a-z0-9]/g, ''));

interface Strings {
  values: string[];
  keys: string[];
  numbers: number[];
}

const empty = (): Strings => ({ values: [], keys: [], numbers: [] });

/** Collects every string and number value and object key under `value`; false past the depth limit. */
function collect(value: unknown, into: Strings, depth = 0): boolean {
  if (typeof value === 'string') into.values.push(value);
  else if (typeof value === 'number') into.numbers.push(value);
  else if (typeof value === 'object' && value !== null) {
    if (depth >= MAX_DEPTH) return false;
    if (Array.isArray(value)) {
      for (const v of value) if (!collect(v, into, depth + 1)) return false;
    } else {
      for (const [k, v] of Object.entries(value)) {
        into.keys.push(k);
        if (!collect(v, into, depth + 1)) return false;
      }
    }
  }
  return true;
}

export function createEgressGuard(options: EgressGuardOptions): EgressGuard {
  const pointers: readonly Pointer[] = correspondencePointers(options.fieldMap);
  const canaries = (options.canaries ?? []).filter((c) => typeof c === 'string' && c !== '');

  return (data, record) => {
    const out = empty();
    // Output too deep (or cyclic) to read cannot be shown clean: fail closed.
    if (!collect(data, out)) return deny('egress_guard');
    if (out.keys.some(isCorrespondenceKey)) return deny('egress_guard');
    // One haystack, one includes() per needle; SEP keeps a needle from spanning two strings.
    const haystack = [...out.values, ...out.keys].join(SEP);
    const letters = empty();
    for (const p of pointers) if (!collect(readPointer(record, p), letters)) return deny('egress_guard');
    for (const n of letters.values) if (n.length >= MIN_NEEDLE_LENGTH && haystack.includes(n)) return deny('egress_guard');
    // RULES 8: the same letters' metadata by value, whatever its spelling in the output.
    const meta: LetterValues = { strings: new Set(), seconds: new Set(), ids: new Set() };
    for (const v of [...letters.values, ...letters.numbers]) addLetterValue(v, meta); // keys ("with", "at") are schema, not metadata
    if (carriesLetterValue([...out.values, ...out.keys], out.numbers, meta)) return deny('egress_guard');
    for (const c of canaries) if (haystack.includes(c)) return deny('egress_guard');
    return null;
  };
}
