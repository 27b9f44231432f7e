// Pseudonym key routes (RULES 29): rotate a partner's key version (admin; audited in the same
// script as the change, and published to every instance), and read its versions.
import { Router } from 'express';
import { z } from 'zod';
import type { AdminAuth } from '../auth/admin-auth.ts';
import { actorOf } from '../auth/admin-auth.ts';
import type { PartnerKeyVersions } from '../keys/partner-key-versions.ts';
import type { KeyVersionRecord } from '../keys/partner-key-store.ts';
import { notFoundPartner } from '../agreements/partners.ts';
import { parseBody } from './field-errors.ts';
import type { ApiDoc } from './openapi.ts';
import { problem, ROLE_ERRORS } from './openapi-responses.ts';
import { keyRotation, keyVersions } from './admin-responses.ts';
import { pathId } from './path-ids.ts';

const AUTH_ERRORS = ROLE_ERRORS;
const noPartner = problem(['not_found'], 'no such partner');

export interface KeyRoutesDeps {
  partnerKeys: PartnerKeyVersions;
  partnerExists(id: string): Promise<boolean>;
  graceSeconds: number;
  /** RULES 50: a reported key compromise starts the breach clock; resolves to the incident's id. */
  keyCompromised(partnerId: string): Promise<string>;
}

/** What an admin sees: each version and until when it resolves. */
function view(r: KeyVersionRecord, graceSeconds: number) {
  return {
    partnerId: r.partnerId,
    current: r.current,
    retired: r.retired.map((v) => ({
      version: v.version, retiredAt: v.retiredAt,
      acceptedUntil: new Date(Date.parse(v.retiredAt) + (v.graceSeconds ?? graceSeconds) * 1000).toISOString(),
    })),
  };
}

export function adminKeysRouter(d: KeyRoutesDeps, auth: AdminAuth, doc: ApiDoc): Router {
  const r = Router();
  const admin = auth.requireRole('admin');
  // A rotation may only shorten the configured grace (0: at once, e.g. a compromised partner).
  // RULES 29, 50: `compromised: true` rotates with no grace at all and opens a key_compromise incident.
  const rotateSchema = z.strictObject({
    graceSeconds: z.number().int().min(0).max(d.graceSeconds).optional(),
    compromised: z.boolean().optional(),
  }).refine((b) => !(b.compromised && b.graceSeconds), { path: ['graceSeconds'], message: 'must be absent or 0 when compromised is true: a compromised key resolves no longer' });

  doc.add('POST', '/admin/v1/partners/:id/keys/rotate', {
    summary: 'start the partner\'s next pseudonym key version; the previous version resolves for pseudonym.rotationGraceSeconds (or a shorter graceSeconds). compromised: true (RULES 29, 50) rotates with no grace and opens a key_compromise incident (its id in incidentId)',
    auth: 'admin', body: rotateSchema,
    responses: { 200: { description: 'the key versions after the rotation', json: keyRotation }, 400: problem(['validation_failed'], 'graceSeconds or compromised (a malformed id in the path too)'), 404: noPartner, ...AUTH_ERRORS },
  });
  r.post('/admin/v1/partners/:id/keys/rotate', admin, async (req, res) => {
    const id = pathId(req, 'id', 'partner');
    const body = parseBody(rotateSchema, req.body ?? {});
    const rec = await d.partnerKeys.rotate(actorOf(res), id, body.compromised ? { graceSeconds: 0 } : { ...(body.graceSeconds === undefined ? {} : { graceSeconds: body.graceSeconds }) });
    // Rotated first (the damage stops), then the clock starts.
    const incidentId = body.compromised ? await d.keyCompromised(id) : undefined;
    res.json({ ...view(rec, d.graceSeconds), ...(incidentId ? { incidentId } : {}) });
  });

  doc.add('GET', '/admin/v1/partners/:id/keys', {
    summary: 'the partner\'s pseudonym key versions', auth: 'admin',
    responses: { 200: { description: 'the current version and the retired ones with until when each resolves', json: keyVersions }, 400: problem(['validation_failed'], 'a malformed id in the path'), 404: noPartner, ...AUTH_ERRORS },
  });
  r.get('/admin/v1/partners/:id/keys', admin, async (req, res) => {
    const id = pathId(req, 'id', 'partner');
    if (!(await d.partnerExists(id))) throw notFoundPartner(id);
    res.json(view(await d.partnerKeys.store.read(id), d.graceSeconds));
  });
  return r;
}
