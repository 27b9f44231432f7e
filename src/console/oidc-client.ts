// The console's OpenID Connect client (RULES 43: staff SSO), on openid-client: discovery once (retried
// after a failure), the authorization URL with PKCE (S256), state and nonce, and the code exchange,
// which checks state, the ID token's signature, issuer, audience and nonce. Every request to the IdP
// goes over TLS 1.2+ with certificate and host name verified (RULES 32, 34), against console.oidc.ca
// when one is given.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { createPrivateKey, webcrypto } from 'node:crypto';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { ConfigError, REPO_ROOT } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { tlsBase } from '../tls/options.ts';
import type { Flow } from './oidc-flows.ts';

type OidcConfig = Config['console']['oidc'];
const TIMEOUT_S = 10;

export interface OidcSignIn {
  /** A new flow (kept by the caller) and the IdP URL to send the browser to. */
  start(): Promise<{ flow: Flow; url: string }>;
  /** The callback's query string -> the verified claims (ID token, then userinfo for what it lacks). */
  finish(query: string, flow: Flow): Promise<Record<string, unknown>>;
}

const abs = (p: string) => (isAbsolute(p) ? p : resolve(REPO_ROOT, p));

function readFile(path: string, key: string): Buffer {
  try {
    return readFileSync(abs(path));
  } catch (e) {
    throw new ConfigError(`${key}: cannot read ${path} (${(e as Error).message.split('\n')[0]})`);
  }
}

type PrivateJwk = webcrypto.JsonWebKey & { kid?: string; alg?: string };

/** private_key_jwt: the JWK file, read and parsed at start so a bad one stops the gateway naming its key. */
function loadJwk(path: string): PrivateJwk {
  const key = 'console.oidc.privateKeyJwk';
  try {
    const jwk = JSON.parse(readFile(path, key).toString('utf8')) as PrivateJwk;
    if (createPrivateKey({ key: jwk as Record<string, unknown>, format: 'jwk' }).type !== 'private') throw new Error('not a private key');
    return jwk;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${key}: not a private JWK (${(e as Error).message.split('\n')[0]})`);
  }
}

async function clientAuth(c: OidcConfig, jwk: PrivateJwk | null): Promise<oidc.ClientAuth> {
  if (!jwk) return oidc.ClientSecretBasic(c.clientSecret!);
  const alg = jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : 'RS256');
  const params = alg.startsWith('ES') ? { name: 'ECDSA', namedCurve: jwk.crv ?? 'P-256' } : alg.startsWith('PS') ? { name: 'RSA-PSS', hash: `SHA-${alg.slice(2)}` } : { name: 'RSASSA-PKCS1-v1_5', hash: `SHA-${alg.slice(2)}` };
  const key = await webcrypto.subtle.importKey('jwk', jwk, params, false, ['sign']);
  return oidc.PrivateKeyJwt(jwk.kid ? { key, kid: jwk.kid } : key);
}

/** Reads the key and CA files now (a bad one throws ConfigError naming its key); the IdP is asked on first use. */
export function createOidcSignIn(c: OidcConfig): OidcSignIn {
  const jwk = c.privateKeyJwk ? loadJwk(c.privateKeyJwk) : null;
  const ca = c.ca ? readFile(c.ca, 'console.oidc.ca') : undefined;
  const agent = new Agent({ connect: { ...tlsBase, ...(ca ? { ca } : {}), rejectUnauthorized: true } }); // RULES 34
  const customFetch = ((url: string, init: Parameters<typeof undiciFetch>[1]) => undiciFetch(url, { ...init, dispatcher: agent })) as unknown as oidc.CustomFetch;
  const redirectUri = c.redirectUri!;

  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    discovered ??= clientAuth(c, jwk).then((auth) => oidc.discovery(new URL(c.issuer!), c.clientId!, { redirect_uris: [redirectUri], response_types: ['code'] }, auth, {
      [oidc.customFetch]: customFetch, timeout: TIMEOUT_S,
    })).catch((e: unknown) => {
      discovered = undefined; // an IdP that was down is asked again next time
      throw e;
    });
    return discovered;
  };

  return {
    async start() {
      const config = await configuration();
      const flow: Flow = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri, response_type: 'code', scope: c.scopes.join(' '),
        state: flow.state, nonce: flow.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier), code_challenge_method: 'S256',
      });
      return { flow, url: url.href };
    },
    async finish(query, flow) {
      const config = await configuration();
      // The URL the IdP redirected to is ours by configuration, never taken from the Host header.
      const current = new URL(redirectUri);
      current.search = query;
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true,
      });
      const claims: Record<string, unknown> = { ...tokens.claims() };
      // Many IdPs put the name and groups only in userinfo; the ID token's sub binds the two (checked).
      if ((claims[c.rolesClaim] === undefined || claims.name === undefined) && config.serverMetadata().userinfo_endpoint) {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub));
        for (const k of [c.rolesClaim, 'name', 'preferred_username', 'email']) if (claims[k] === undefined && info[k] !== undefined) claims[k] = info[k];
      }
      return claims;
    },
  };
}
