// A partner's typed client for the gateway: openapi-fetch over the generated types, so every path,
// parameter and answer body is checked by the compiler against the gateway's served document.
import createClient, { type Client } from 'openapi-fetch';
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import type { paths } from './generated/partner-api.ts';

export type PartnerClient = Client<paths>;

/**
 * `dispatcher` carries the TLS settings (the CA that signed the gateway's certificate, and for mTLS
 * the partner's client certificate); verification is never turned off.
 */
export function partnerClient(baseUrl: string, dispatcher: Dispatcher): PartnerClient {
  return createClient<paths>({
    baseUrl,
    // openapi-fetch hands over a Request; undici sends it with the dispatcher's TLS settings.
    fetch: async (req: Request) => {
      const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
      const res = await undiciFetch(req.url, { method: req.method, headers: [...req.headers], body, signal: req.signal, dispatcher });
      return res as unknown as Response;
    },
  });
}
