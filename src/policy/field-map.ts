// The configured field map (CONTRACT 9), compiled: correspondence pointers first, then each
// category's pointers minus anything inside correspondence, with the correspondence sub-paths to
// cut out of any value that contains them (policy 4.3, RULES 7: no configuration path enables it).
import { CATEGORIES, CORRESPONDENCE, type Category } from './taxonomy.ts';
import { isPrefixOf, parsePointer, type Pointer } from './json-pointer.ts';
import type { PruneTree } from './json-value.ts';

export type FieldMapConfig = Readonly<Partial<Record<string, string | readonly string[]>>>;

export interface CategorySource {
  pointer: Pointer;
  /** Correspondence paths below `pointer`, relative to it. */
  prune: PruneTree | undefined;
}

export interface CompiledFieldMap {
  correspondence: Pointer[];
  sources: ReadonlyMap<Category, CategorySource[]>;
}

// The reference record keeps letters at /correspondence; removing it always costs nothing.
const ALWAYS_CORRESPONDENCE = '/correspondence';

const list = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];

/** The correspondence pointers; an unparseable one is a configuration error, so this throws. */
export function correspondencePointers(fieldMap: FieldMapConfig): Pointer[] {
  const out: Pointer[] = [];
  for (const p of [ALWAYS_CORRESPONDENCE, ...list(fieldMap[CORRESPONDENCE])]) {
    const parsed = parsePointer(p);
    if (!parsed) throw new Error(`fieldMap.correspondence: ${JSON.stringify(p)} is not a JSON pointer`);
    out.push(parsed);
  }
  return out;
}

function pruneBelow(pointer: Pointer, correspondence: readonly Pointer[]): PruneTree | undefined {
  let root: PruneTree | undefined;
  for (const c of correspondence) {
    if (!isPrefixOf(pointer, c)) continue;
    root ??= new Map();
    let node: PruneTree = root;
    const rel = c.slice(pointer.length);
    for (const [i, t] of rel.entries()) {
      if (i === rel.length - 1) {
        node.set(t, true);
        break;
      }
      const next = node.get(t);
      if (next === true) break; // an ancestor is cut already
      const child: PruneTree = next ?? new Map();
      node.set(t, child);
      node = child;
    }
  }
  return root;
}

export function compileFieldMap(fieldMap: FieldMapConfig): CompiledFieldMap {
  const correspondence = correspondencePointers(fieldMap);
  const sources = new Map<Category, CategorySource[]>();
  for (const category of CATEGORIES) {
    const found: CategorySource[] = [];
    for (const raw of list(fieldMap[category])) {
      const pointer = parsePointer(raw);
      // Unparseable, the whole record, or at/inside correspondence: never a source.
      if (!pointer || pointer.length === 0) continue;
      if (correspondence.some((c) => isPrefixOf(c, pointer))) continue;
      found.push({ pointer, prune: pruneBelow(pointer, correspondence) });
    }
    if (found.length) sources.set(category, found);
  }
  return { correspondence, sources };
}
