// Which users the reference store serves: an NDJSON file (CORE_STORE_DATA) or synthetic ones.
import { syntheticSource, loadNdjsonSource, type UserSource } from './source.ts';

export function openSource(cs: { data: string | null; users: number }): Promise<UserSource> {
  return cs.data ? loadNdjsonSource(cs.data) : Promise.resolve(syntheticSource(cs.users));
}
