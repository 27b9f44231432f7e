// Helpers for the admin API tests: a JSON caller with a bearer token, and a valid agreement body
// (CONTRACT 5) that each test breaks in one place.
import { fetch, type Agent } from 'undici';

export interface Res { status: number; body: any; text: string; headers: Headers }

export type Api = (method: string, path: string, opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> }) => Promise<Res>;

/** Calls the control-plane listener (RULES 43) when the target has one, else `url`. */
export function adminApi(target: { url: string; adminUrl?: string; client: Agent }, defaultToken: string): Api {
  const base = target.adminUrl ?? target.url;
  return async (method, path, opts = {}) => {
    const token = opts.token === undefined ? defaultToken : opts.token;
    const headers: Record<string, string> = { ...opts.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, {
      method, headers, dispatcher: target.client,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    let body: any = null;
    try { body = text ? JSON.parse(text) : null; } catch { body = null; }
    return { status: res.status, body, text, headers: res.headers as unknown as Headers };
  };
}

export function agreementBody(over: Record<string, unknown> = {}): Record<string, any> {
  return {
    confidentiality: { documentRef: 'NDA-2026-014', signedAt: '2026-01-10', expiresAt: '2028-01-10', signatories: ['A. Name, Partner LLP'] },
    validFrom: '2026-01-15T00:00:00Z',
    validUntil: '2027-01-15T00:00:00Z',
    processingCountries: ['KZ', 'DE'],
    purposes: {
      advertising: { categories: { gender: 'clear', date_of_birth: 'generalise', email: 'pseudonymise' } },
      service_delivery: { categories: { phone: 'clear' } },
    },
    requiresPolicyVersion: '2024-03',
    rateLimit: { requestsPerMinute: 600 },
    ...over,
  };
}

let n = 0;
/** Register a partner with a fresh id and return the id. */
export async function newPartner(api: Api, prefix = 'p'): Promise<string> {
  const id = `${prefix}-${process.pid}-${++n}`;
  const r = await api('POST', '/admin/v1/partners', { body: { id, name: `Partner ${id}`, contactEmail: `privacy@${id}.example` } });
  if (r.status !== 201) throw new Error(`partner create: ${r.status} ${r.text}`);
  return id;
}

/** The problem+json errors of a 400, as field -> reason. */
export function fieldsOf(r: Res): Map<string, string> {
  return new Map((r.body?.errors ?? []).map((e: { field: string; reason: string }) => [e.field, e.reason]));
}

/** The ids of every released transfer-log entry of a partner, read page by page as an auditor. */
export async function releasedEntryIds(api: Api, auditorToken: string, partnerId: string): Promise<string[]> {
  const ids: string[] = [];
  for (let cursor: string | null = null; ;) {
    const q: Res = await api('GET', `/admin/v1/transfers?partnerId=${partnerId}&decision=released&limit=500${cursor ? `&cursor=${cursor}` : ''}`, { token: auditorToken });
    if (q.status !== 200) throw new Error(`transfer log read: ${q.status} ${q.text}`);
    ids.push(...q.body.items.map((e: { id: string }) => e.id));
    cursor = q.body.nextCursor;
    if (!cursor) return ids;
  }
}
