// Ids taken from the path of admin routes are checked for shape before any store sees them
// (issue [1/6] item 3): a malformed one is a 400 validation_failed naming the parameter, never a
// 500 or a lookup; a well-formed id of nothing stays a 404.
import type { Request } from 'express';
import { PARTNER_ID } from '../agreements/partner-schema.ts';
import { validationFailed } from './problem.ts';

const SHAPES = {
  partner: { pattern: PARTNER_ID, reason: 'must be a partner id (2-63 characters: a-z, 0-9, _ and -)' },
  agreement: { pattern: /^agr_[a-z0-9][a-z0-9_-]{1,62}$/, reason: 'must be an agreement id (agr_ and the partner id)' },
  credential: { pattern: /^cid_[A-Za-z0-9_-]{22}$/, reason: 'must be a client id (cid_ and 22 base64url characters)' },
  token: { pattern: /^tok_[A-Za-z0-9_-]{1,40}$/, reason: 'must be a token id (tok_ and up to 40 base64url characters)' },
  incident: { pattern: /^inc_[0-9a-f]{16}$/, reason: 'must be an incident id (inc_ and 16 hex digits)' },
  notice: { pattern: /^ntc_[A-Za-z0-9_-]{24}$/, reason: 'must be a notice id (ntc_ and 24 base64url characters)' },
  reidentification: { pattern: /^reid_[A-Za-z0-9_-]{22}$/, reason: 'must be a re-identification request id (reid_ and 22 base64url characters)' },
} as const;

export type PathIdKind = keyof typeof SHAPES;

/** `req.params[name]`, checked against the shape of a `kind` id; throws 400 naming `name`. */
export function pathId(req: Request, name: string, kind: PathIdKind): string {
  const v = String(req.params[name] ?? '');
  // The value is never echoed: the reason names the parameter and the shape only.
  if (!SHAPES[kind].pattern.test(v)) throw validationFailed([{ field: name, reason: SHAPES[kind].reason }]);
  return v;
}
