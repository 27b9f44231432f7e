// DESIGN 6: what a partner may receive for one purpose, compiled once from its agreement version
// into a function record -> payload. Allowlist only (RULES 4-5): a category the purpose does not
// name, a store field the field map does not name, and correspondence (policy 4.3) never appear.
import { CATEGORIES, CORRESPONDENCE, type Category } from './taxonomy.ts';
import { readPointer } from './json-pointer.ts';
import { copyJson, type Json } from './json-value.ts';
import { compileFieldMap, type CategorySource, type FieldMapConfig } from './field-map.ts';
import { treatmentFor, type Treat } from './treatments.ts';
import { effectiveTreatment } from './category-term.ts';

export { ProjectionCache, type ProjectionKey } from './projection-cache.ts';
export type { FieldMapConfig } from './field-map.ts';
export type { Json } from './json-value.ts';

export interface ProjectionSpec {
  fieldMap: FieldMapConfig;
  /** The agreement's category -> term table for this purpose (CONTRACT 5; a CategoryTerm each, RULES 30). Anything malformed sends nothing. */
  categories: Readonly<Record<string, unknown>>;
  /** Per-partner key for `pseudonymise` (Pseudonymizer.fieldKey). */
  fieldKey: Buffer;
}

export interface Projected {
  /** Output keys are category names (CONTRACT 2). */
  data: Partial<Record<Category, Json>>;
  /** The categories actually present in `data`, in CONTRACT 2 order (for the transfer log). */
  categories: Category[];
  /** Malformed store values left out (a date that is not a date, an IP that is not an IP, ...). */
  dropped: number;
}

export type Projection = (record: unknown) => Projected;

interface Step {
  category: Category;
  sources: readonly CategorySource[];
  treat: Treat;
}

/** The first source that holds a value (the field map lists alternatives in order of preference). */
function pick(record: unknown, sources: readonly CategorySource[]): { raw: unknown; source: CategorySource } | null {
  for (const source of sources) {
    const raw = readPointer(record, source.pointer);
    if (raw !== undefined && raw !== null) return { raw, source };
  }
  return null;
}

export function compileProjection(spec: ProjectionSpec): Projection {
  const map = compileFieldMap(spec.fieldMap);
  const table: unknown = spec.categories;
  const steps: Step[] = [];
  for (const category of CATEGORIES) {
    // A malformed table sends nothing; correspondence is no category, and is skipped by name anyway.
    if (typeof table !== 'object' || table === null || (category as string) === CORRESPONDENCE) continue;
    if (!Object.hasOwn(table, category)) continue;
    const treat = treatmentFor(category, effectiveTreatment(category, (table as Record<string, unknown>)[category]), spec.fieldKey);
    const sources = map.sources.get(category);
    if (treat && sources) steps.push({ category, sources, treat });
  }
  Object.freeze(steps);

  return (record) => {
    const data: Partial<Record<Category, Json>> = {};
    const categories: Category[] = [];
    let dropped = 0;
    const onDrop = () => void dropped++;
    for (const { category, sources, treat } of steps) {
      const found = pick(record, sources);
      if (!found) continue; // absent in this record: nothing to send, nothing malformed
      // policy 4.3: correspondence is cut out during the copy, before any treatment sees the value.
      const copy = copyJson(found.raw, found.source.prune);
      const out = copy === undefined ? undefined : treat(copy, onDrop);
      if (out === undefined) {
        dropped++;
        continue;
      }
      data[category] = out;
      categories.push(category);
    }
    return { data, categories, dropped };
  };
}
