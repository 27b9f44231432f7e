// The partner journey with the generated client (issue 19 item 3): tokens by client_secret_basic
// and private_key_jwt, a single pull, a bulk NDJSON pull that resumes from its last cursor after a
// dropped connection, a JWE answer decrypted with the partner's key, a transfer receipt and a
// webhook checked against the gateway's JWKS, notices pulled and acknowledged.
// test/partner-api-contract.test.ts runs every step against a real gateway.
import { SignJWT, compactDecrypt, compactVerify, createLocalJWKSet, type JWK, type JSONWebKeySet, type CryptoKey } from 'jose';
import { randomUUID } from 'node:crypto';
import type { PartnerClient } from './client.ts';
import type { components } from './generated/partner-api.ts';

type Schemas = components['schemas'];
export type Purpose = Schemas['PulledSubject']['purpose'];
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

function fail(what: string, status: number, body: unknown): never {
  throw new Error(`${what}: ${status} ${JSON.stringify(body)}`);
}

/** client_secret_basic (RFC 6749 2.3.1): id and secret form-encoded, then Basic. */
export async function tokenBySecret(client: PartnerClient, clientId: string, secret: string, scope: Purpose[]): Promise<Schemas['TokenResponse']> {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  const { data, error, response } = await client.POST('/oauth/token', {
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: { grant_type: 'client_credentials', scope: scope.join(' ') },
    bodySerializer: (b: object) => new URLSearchParams(b as Record<string, string>).toString(),
  });
  return data ?? fail('token', response.status, error);
}

/** private_key_jwt (RFC 7523): an ES256 assertion, iss = sub = client_id, aud = the token endpoint, one-time jti. */
export async function tokenByPrivateKeyJwt(client: PartnerClient, tokenEndpoint: string, clientId: string, key: CryptoKey, kid: string, scope: Purpose[]): Promise<Schemas['TokenResponse']> {
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(clientId).setSubject(clientId).setAudience(tokenEndpoint)
    .setIssuedAt().setExpirationTime('2m').setJti(randomUUID())
    .sign(key);
  const { data, error, response } = await client.POST('/oauth/token', {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: {
      grant_type: 'client_credentials', scope: scope.join(' '), client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    },
    bodySerializer: (b: object) => new URLSearchParams(b as Record<string, string>).toString(),
  });
  return data ?? fail('token', response.status, error);
}

/** One subject; the Transfer-Receipt header is the signed record of this release. */
export async function pullOne(client: PartnerClient, token: string, subject: string, purpose: Purpose) {
  const { data, error, response } = await client.GET('/v1/subjects/{subject}', { params: { path: { subject }, query: { purpose } }, headers: auth(token) });
  if (!data) fail('pull', response.status, error);
  // Without Accept: application/jose the answer is the JSON body (the string is the JOSE one).
  return { subject: data as Schemas['PulledSubject'], receipt: response.headers.get('transfer-receipt')! };
}

type Line = Schemas['BulkLine'];
const isError = (l: Line): l is Extract<Line, { error: string }> => 'error' in l;
const isFinal = (l: Line): l is Extract<Line, { omitted: number }> => 'omitted' in l && !('error' in l);

/** One NDJSON request of up to `limit` subjects: yields each line as it arrives. */
export async function* streamPage(client: PartnerClient, token: string, purpose: Purpose, limit: number, cursor: string | null, signal?: AbortSignal): AsyncGenerator<Line> {
  const { response, error } = await client.GET('/v1/subjects', {
    params: { query: { purpose, limit: String(limit), ...(cursor ? { cursor } : {}) } }, headers: { ...auth(token), accept: 'application/x-ndjson' }, parseAs: 'stream', signal,
  });
  if (!response.ok || !response.body) fail('bulk', response.status, error);
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const l of lines) if (l) yield JSON.parse(l) as Line;
  }
}

export interface BulkPull { subjects: Map<string, Schemas['BulkPage']['items'][number]>; omitted: number; resumed: number; receipts: string[] }

/**
 * Every subject, `pageSize` a request; after a dropped connection it asks again from the last
 * cursor it got whole (the page that broke comes again, so subjects are kept by pseudonym).
 * `interrupt(page, itemsSoFar)` lets a test drop the connection (it returns true to abort).
 */
export async function pullAll(client: PartnerClient, token: string, purpose: Purpose, pageSize: number, interrupt: (page: number, items: number) => boolean = () => false): Promise<BulkPull> {
  const out: BulkPull = { subjects: new Map(), omitted: 0, resumed: 0, receipts: [] };
  let cursor: string | null = null;
  for (let page = 0; ; page++) {
    const abort = new AbortController();
    let final: Extract<Line, { omitted: number }> | undefined;
    let items = 0;
    try {
      for await (const line of streamPage(client, token, purpose, pageSize, cursor, abort.signal)) {
        if (isError(line)) throw new Error(`the gateway ended the stream: ${line.error}`); // permission lapsed: stop
        if (isFinal(line)) final = line;
        else {
          out.subjects.set(line.subject, line);
          if (interrupt(page, ++items)) {
            abort.abort(); // the connection drops mid-page: nothing more of this page is read
            break;
          }
        }
      }
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    }
    if (!final) { // dropped before the final line: the same cursor again
      if (++out.resumed > 3) throw new Error('the connection keeps dropping');
      continue;
    }
    out.omitted += final.omitted;
    out.receipts.push(...final.receipts);
    if (final.nextCursor === null) return out;
    cursor = final.nextCursor;
  }
}

/** The gateway's public keys: receipts, signed answers and webhooks are verified against them. */
export async function gatewayJwks(client: PartnerClient): Promise<JSONWebKeySet> {
  const { data, response } = await client.GET('/.well-known/jwks.json');
  return (data as JSONWebKeySet | undefined) ?? fail('jwks', response.status, null);
}

/** A compact JWS by the gateway (receipt, webhook body, inner JWS of a JOSE answer): its payload. */
export async function verifyGatewayJws(jws: string, jwks: JSONWebKeySet): Promise<unknown> {
  const { payload } = await compactVerify(jws, createLocalJWKSet(jwks), { algorithms: ['ES256'] });
  return JSON.parse(new TextDecoder().decode(payload));
}

/** A transfer receipt: signed by the gateway, for this partner, about this subject. */
export async function verifyReceipt(receipt: string, jwks: JSONWebKeySet, expect: { partnerId: string; subject: string; transferId: string }) {
  const p = await verifyGatewayJws(receipt, jwks) as { typ: string; partnerId: string; entry: { id: string; subject: string } };
  if (p.typ !== 'transfer-receipt' || p.partnerId !== expect.partnerId || p.entry.subject !== expect.subject || p.entry.id !== expect.transferId) {
    throw new Error('the receipt is not for this transfer');
  }
  return p;
}

/** Accept: application/jose: decrypt with the partner's private `enc` key, then verify the gateway's signature. */
export async function pullEncrypted(client: PartnerClient, token: string, subject: string, purpose: Purpose, encKey: CryptoKey, jwks: JSONWebKeySet) {
  const { data, response, error } = await client.GET('/v1/subjects/{subject}', {
    params: { path: { subject }, query: { purpose } }, headers: { ...auth(token), accept: 'application/jose' }, parseAs: 'text',
  });
  if (!response.ok || typeof data !== 'string') fail('jose pull', response.status, error);
  const jwe = data.trim();
  const { plaintext } = await compactDecrypt(jwe, encKey);
  return await verifyGatewayJws(new TextDecoder().decode(plaintext), jwks) as Schemas['PulledSubject'];
}

/** Notices since `cursor`, each acknowledged once acted on (RULES 23). */
export async function handleNotices(client: PartnerClient, token: string, cursor: string | null, act: (n: Schemas['NoticesPage']['items'][number]) => Promise<void>) {
  const { data, error, response } = await client.GET('/v1/notifications', { params: { query: cursor ? { cursor } : {} }, headers: auth(token) });
  if (!data) fail('notices', response.status, error);
  const acks: Schemas['NoticeAck'][] = [];
  for (const n of data.items) {
    await act(n);
    const a = await client.POST('/v1/notifications/{id}/ack', { params: { path: { id: n.id } }, headers: auth(token), body: {} });
    acks.push(a.data ?? fail('ack', a.response.status, a.error));
  }
  return { notices: data.items, acks, nextCursor: data.nextCursor };
}

/** A webhook body is a compact JWS of the notice: only a verified one is acted on. */
export async function verifyWebhook(body: string, jwks: JSONWebKeySet): Promise<Schemas['NoticesPage']['items'][number]> {
  return await verifyGatewayJws(body.trim(), jwks) as Schemas['NoticesPage']['items'][number];
}

export type { JWK };
