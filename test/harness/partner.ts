// A registered partner with a credential and an agreement, and a caller for the partner API.
import { fetch, type Agent } from 'undici';
import { adminApi, agreementBody, newPartner, type Api } from './admin.ts';
import type { Stack } from './stack.ts';

export interface TestPartner {
  id: string;
  clientId: string;
  clientSecret: string;
  /** A fresh access token for these purposes (client_secret_basic). */
  token(scope: string, client?: Agent): Promise<string>;
}

export async function oauthToken(stack: Pick<Stack, 'url' | 'client'>, clientId: string, secret: string, form: Record<string, string>, client?: Agent) {
  const res = await fetch(`${stack.url}/oauth/token`, {
    method: 'POST', dispatcher: client ?? stack.client,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(secret ? { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}` } : {}),
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any>, headers: res.headers };
}

export async function setupPartner(stack: Stack, agreement: Record<string, unknown> = {}, extra: { jwks?: object; clientCertThumbprint?: string } = {}): Promise<TestPartner & { api: Api }> {
  const api = adminApi(stack, stack.adminToken);
  const id = await newPartner(api);
  if (extra.jwks) {
    const r = await api('PUT', `/admin/v1/partners/${id}/jwks`, { body: extra.jwks });
    if (r.status !== 200) throw new Error(`jwks: ${r.status} ${r.text}`);
  }
  const cred = await api('POST', `/admin/v1/partners/${id}/credentials`, { body: {} });
  const agr = await api('POST', `/admin/v1/partners/${id}/agreements`, { body: agreementBody(agreement) });
  if (cred.status !== 201 || agr.status !== 201) throw new Error(`setup: ${cred.status} ${agr.status} ${agr.text}`);
  const { clientId, clientSecret } = cred.body;
  return {
    id, clientId, clientSecret, api,
    async token(scope, client) {
      const r = await oauthToken(stack, clientId, clientSecret, { grant_type: 'client_credentials', scope }, client);
      if (r.status !== 200) throw new Error(`token: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.access_token as string;
    },
  };
}

export async function partnerGet(stack: Pick<Stack, 'url' | 'client'>, token: string, path: string, headers: Record<string, string> = {}, client?: Agent) {
  const res = await fetch(`${stack.url}${path}`, { dispatcher: client ?? stack.client, headers: { authorization: `Bearer ${token}`, ...headers } });
  const text = await res.text();
  let body: any = null;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body, text, headers: res.headers };
}
