// The shipped field map (config/default.json, the project's own file) and a per-partner test key.
import { readFileSync } from 'node:fs';
import type { FieldMapConfig } from '../../src/policy/project.ts';

const defaults = JSON.parse(readFileSync(new URL('../../config/default.json', import.meta.url), 'utf8')) as {
  fieldMap: Record<string, unknown>;
};

/** config/default.json's fieldMap without its $doc entry. */
export const FIELD_MAP: FieldMapConfig = Object.fromEntries(
  Object.entries(defaults.fieldMap).filter(([k]) => !k.startsWith('$')),
) as FieldMapConfig;

export const FIELD_KEY = Buffer.alloc(32, 7);
export const OTHER_KEY = Buffer.alloc(32, 8);
