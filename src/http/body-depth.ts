// Issue [1/6] item 3: a body nested thousands of levels deep overflowed the stack in validation (a
// 500). JSON.parse itself is iterative in V8, so the parsed body is measured here without recursion
// and refused with a 400 before any recursive code (zod, projection) sees it.
import type { RequestHandler } from 'express';
import { validationFailed } from './problem.ts';

/** No request body of this API needs more than a handful of levels (agreements use 4). */
export const MAX_BODY_DEPTH = 32;

/** True when `value` nests objects or arrays deeper than `max` levels; an explicit stack, no recursion. */
export function deeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v as object)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

export const boundBodyDepth: RequestHandler = (req, _res, next) => {
  if (req.body !== null && typeof req.body === 'object' && deeperThan(req.body, MAX_BODY_DEPTH)) {
    return next(validationFailed([{ field: 'body', reason: `nested deeper than ${MAX_BODY_DEPTH} levels` }]));
  }
  next();
};
