// What the demo shows once the services are up: readiness, then the whole story of one partner —
// registration, agreement, token, a few single pulls and a bulk page — with the released JSON
// printed next to the transfer log entries that were written before it left.
import { fetch, Agent } from 'undici';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Gateway } from '../main.ts';
import type { Config } from '../config/schema.ts';

export interface StoryContext {
  gw: Gateway;
  /** The partner listener. */
  url: string;
  /** The control-plane listener (RULES 43): the admin calls go there. */
  adminUrl: string;
  config: Config;
  say: (s: string) => void;
  /** An admin bearer token (BOOTSTRAP_ADMIN_TOKEN or the demo's random one). */
  adminToken: string;
}

const DEMO_AGREEMENT = {
  confidentiality: { documentRef: 'NDA-DEMO-001', signedAt: '2026-01-10', expiresAt: '2028-01-10', signatories: ['Demo Partner LLP'] },
  validFrom: '2026-01-01T00:00:00Z',
  processingCountries: ['KZ', 'DE'], // one cross-border country: DE needs adequacy or the user's consent
  purposes: {
    service_delivery: { categories: { phone: 'clear', email: 'pseudonymise', ip_address: 'generalise' } },
    advertising: { categories: { gender: 'clear', date_of_birth: 'generalise', geolocation: 'generalise' } },
  },
  requiresPolicyVersion: '2024-03',
  rateLimit: { requestsPerMinute: 600 },
};

export async function runDemoStory(ctx: StoryContext): Promise<void> {
  const agent = new Agent({ connect: { ca: readFileSync(ctx.config.server.tls.ca!) } });
  const call = async (method: string, path: string, opts: { token?: string; body?: unknown; form?: Record<string, string>; basic?: string } = {}) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.basic) headers.authorization = `Basic ${opts.basic}`;
    let body: string | undefined;
    if (opts.body !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(opts.body); }
    if (opts.form) { headers['content-type'] = 'application/x-www-form-urlencoded'; body = new URLSearchParams(opts.form).toString(); }
    const base = path.startsWith('/admin/') ? ctx.adminUrl : ctx.url;
    const res = await fetch(`${base}${path}`, { method, headers, body, dispatcher: agent });
    const json = (await res.json().catch(() => null)) as any;
    if (res.status >= 400 && !path.startsWith('/v1/subjects/')) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return { status: res.status, json };
  };
  try {
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${ctx.url}/readyz`, { dispatcher: agent });
      const body = await res.json();
      if (res.status === 200 || i === 49) { ctx.say(`readiness: ${JSON.stringify(body)}`); break; }
      await new Promise((r) => setTimeout(r, 100));
    }
    const admin = { token: ctx.adminToken };
    const partnerId = `demo-${randomBytes(3).toString('hex')}`;
    await call('POST', '/admin/v1/partners', { ...admin, body: { id: partnerId, name: 'Demo Partner LLP', contactEmail: 'privacy@demo-partner.example' } });
    const validUntil = new Date(Date.now() + 180 * 86_400_000).toISOString();
    const agr = await call('POST', `/admin/v1/partners/${partnerId}/agreements`, { ...admin, body: { ...DEMO_AGREEMENT, validUntil } });
    const cred = await call('POST', `/admin/v1/partners/${partnerId}/credentials`, { ...admin, body: {} });
    ctx.say(`1. admin registered partner ${partnerId}, agreement ${agr.json.id} v${agr.json.version} (purposes: service_delivery, advertising; processing in KZ and DE)`);
    const basic = Buffer.from(`${cred.json.clientId}:${cred.json.clientSecret}`).toString('base64');
    const tok = await call('POST', '/oauth/token', { basic, form: { grant_type: 'client_credentials', scope: 'advertising service_delivery' } });
    ctx.say(`2. partner got an access token (client_secret_basic): scope "${tok.json.scope}", expires in ${tok.json.expires_in} s`);
    const token = tok.json.access_token as string;
    const page = await call('GET', '/v1/subjects?purpose=advertising&limit=40', { token });
    ctx.say(`3. bulk page, purpose advertising, limit 40: ${page.json.items.length} released, ${page.json.omitted} omitted (no consent, policy, retention or cross-border ground)`);
    for (const item of page.json.items.slice(0, 3)) ctx.say(`   ${JSON.stringify(item)}`);
    const first = page.json.items[0]?.subject as string | undefined;
    if (first) {
      const one = await call('GET', `/v1/subjects/${first}?purpose=service_delivery`, { token });
      ctx.say(`4. single pull of ${first.slice(0, 16)}… for service_delivery: ${one.status} ${JSON.stringify(one.json.data ?? one.json.code)}`);
    }
    const entries = await ctx.gw.deps.transferLog.query.page({ partnerId }, { limit: 100 });
    const tally = new Map<string, number>();
    for (const e of entries.items) tally.set(e.reason ?? e.decision, (tally.get(e.reason ?? e.decision) ?? 0) + 1);
    ctx.say(`5. transfer log for ${partnerId}: ${[...tally].map(([k, n]) => `${k} ${n}`).join(', ')}; the newest entries, written before anything left (no user id, no pseudonym):`);
    for (const e of entries.items.slice(0, 6)) {
      ctx.say(`   ${e.at} ${e.purpose} ${e.decision}${e.reason ? ` (${e.reason})` : ''} subjectRef=${(e.subjectRef ?? "-").slice(0, 12)}… categories=[${e.categories.join(',')}] basis=${e.legalBasis ?? '-'}/${e.crossBorderBasis ?? '-'} chain=${e.chain}#${e.seq} hash=${e.hash.slice(0, 12)}…`);
    }
    const verify = await ctx.gw.deps.transferLog.verify();
    ctx.say(`6. log verify: ok=${verify.ok}, ${verify.entries} entries`);
    ctx.say(`   try it: TOKEN=${token}`);
    ctx.say(`   curl --cacert ${ctx.config.server.tls.ca} -H "Authorization: Bearer $TOKEN" "${ctx.url}/v1/subjects?purpose=advertising&limit=3"`);
    ctx.say(`   control plane: curl --cacert ${ctx.config.server.tls.ca} -H "Authorization: Bearer $BOOTSTRAP_ADMIN_TOKEN" "${ctx.adminUrl}/metrics" (admin token above; on the partner listener: 404)`);
  } finally {
    await agent.close();
  }
}
