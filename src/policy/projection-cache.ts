// DESIGN 6: compiled projections are cached per (agreement, version, purpose, key version) and
// invalidated when the agreement changes. Bounded, so a flood of versions cannot grow it forever.
import type { Projection } from './project.ts';

export interface ProjectionKey {
  agreementId: string;
  version: number | string;
  purpose: string;
  /** The pseudonym key version baked into `pseudonymise` (RULES 29: rotation changes outputs). */
  keyVersion: number;
}

const SEP = '\u0000';

export class ProjectionCache {
  readonly #entries = new Map<string, Projection>();
  readonly #max: number;

  constructor(maxEntries = 1024) {
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached projection for `key`, compiling (once) on a miss. */
  get(key: ProjectionKey, compile: () => Projection): Projection {
    const id = [key.agreementId, String(key.version), key.purpose, String(key.keyVersion)].join(SEP);
    const hit = this.#entries.get(id);
    if (hit) return hit;
    const compiled = compile();
    // Oldest-inserted first out: Map iteration order is insertion order.
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(id, compiled);
    return compiled;
  }

  /** Forget every version and purpose of one agreement (new version, suspension, termination). */
  invalidate(agreementId: string): void {
    const prefix = agreementId + SEP;
    for (const id of [...this.#entries.keys()]) if (id.startsWith(prefix)) this.#entries.delete(id);
  }

  clear(): void {
    this.#entries.clear();
  }
}
