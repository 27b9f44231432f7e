// One webhook POST of a signed notice (CONTRACT 4). RULES 45: the URL is checked again right before
// each attempt and the connection goes to the very addresses the check approved (a pinned DNS
// lookup), so a name re-pointed after registration — or between check and connect (DNS
// rebinding) — cannot reach a private address; redirects are never followed. RULES 34: TLS 1.2+
// with certificate and host name verified. RULES 47: the response is bounded in time and size and
// its body is ignored — only a 2xx status acknowledges.
import { Agent, request } from 'undici';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { checkWebhookUrl } from './url-guard.ts';

export interface WebhookOptions {
  /** clientTlsOptions({ ca: notices.webhookCa }): verification on, TLS 1.2+. */
  tls: ConnectionOptions;
  allowLoopback: boolean;
  timeoutMs: number;
  maxResponseBytes?: number;
  /** Name resolution for the check (tests simulate DNS rebinding with it); the connection never resolves again. */
  lookup?: (host: string) => Promise<string[]>;
}

export type PostResult =
  | { ok: true; status: string }
  /** `blocked` (RULES 45), `redirect`, `oversized` (RULES 47), an HTTP status, or an error code. */
  | { ok: false; status: string; reason?: string };

/** net.connect's lookup, answering only with the addresses the guard checked. */
function pinnedLookup(addresses: string[]): LookupFunction {
  const all = addresses.map((address) => ({ address, family: isIP(address) }));
  return ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
    if (opts?.all) cb(null, all);
    else cb(null, all[0]!.address, all[0]!.family);
  }) as unknown as LookupFunction;
}

function errorStatus(e: unknown): string {
  const err = e as { code?: unknown; name?: unknown };
  const code = typeof err.code === 'string' ? err.code : typeof err.name === 'string' ? err.name : 'error';
  return `error:${code.replace(/[^A-Za-z0-9_]/g, '').slice(0, 64)}`;
}

export async function postNotice(rawUrl: string, jws: string, o: WebhookOptions): Promise<PostResult> {
  const checked = await checkWebhookUrl(rawUrl, { allowLoopback: o.allowLoopback, timeoutMs: o.timeoutMs, ...(o.lookup ? { lookup: o.lookup } : {}) });
  if (!checked.ok) return { ok: false, status: 'blocked', reason: checked.reason };
  const agent = new Agent({
    connections: 1,
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
    connect: { ...o.tls, rejectUnauthorized: true, timeout: o.timeoutMs, lookup: pinnedLookup(checked.addresses) },
  });
  try {
    // undici's request() never follows redirects; a 3xx is a failed attempt like any non-2xx.
    const res = await request(checked.url, {
      method: 'POST', dispatcher: agent, body: jws, signal: AbortSignal.timeout(o.timeoutMs),
      headers: { 'content-type': 'application/jose', accept: '*/*', 'user-agent': 'partner-gateway-notices' },
    });
    let size = 0;
    const limit = o.maxResponseBytes ?? 65_536;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        res.body.destroy();
        return { ok: false, status: 'oversized', reason: `response body over ${limit} bytes (RULES 47)` };
      }
    }
    const status = String(res.statusCode);
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status };
    return { ok: false, status: res.statusCode >= 300 && res.statusCode < 400 ? `redirect:${status}` : status };
  } catch (e) {
    return { ok: false, status: errorStatus(e) };
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}
