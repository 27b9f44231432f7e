// The bench's HTTP side: set up a partner through the admin API, and measure bulk pulls.
import { Agent, request } from 'undici';
import { readFileSync } from 'node:fs';

const AGREEMENT = {
  confidentiality: { documentRef: 'NDA-BENCH', signedAt: '2026-01-10', expiresAt: '2028-01-10', signatories: ['Bench LLP'] },
  validFrom: '2026-01-01T00:00:00Z', validUntil: '2027-06-01T00:00:00Z', processingCountries: ['KZ'],
  purposes: { service_delivery: { categories: { phone: 'clear', email: 'pseudonymise', ip_address: 'generalise', date_of_birth: 'generalise', gender: 'clear' } } },
  requiresPolicyVersion: '2024-03', rateLimit: { requestsPerMinute: 100000 },
};

export class BenchClient {
  private readonly agent: Agent;
  /** `adminBase`: the control-plane listener (RULES 43); the admin calls go there. */
  constructor(private readonly base: string, ca: string, private readonly adminBase = base) {
    this.agent = new Agent({ connect: { ca: readFileSync(ca) }, bodyTimeout: 600_000 });
  }

  async call(method: string, path: string, auth: string, body?: string, type = 'application/json'): Promise<any> {
    const base = path.startsWith('/admin/') ? this.adminBase : this.base;
    const res = await request(`${base}${path}`, { method, dispatcher: this.agent, headers: { authorization: auth, ...(body ? { 'content-type': type } : {}) }, ...(body ? { body } : {}) });
    const json = await res.body.json().catch(() => null);
    if (res.statusCode >= 400) throw new Error(`${method} ${path}: ${res.statusCode} ${JSON.stringify(json)}`);
    return json;
  }

  json(path: string, token: string): Promise<any> {
    return this.call('GET', path, `Bearer ${token}`);
  }

  /** The gateway answers before Redis and its caches are live; wait for /readyz. */
  async waitReady(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const res = await request(`${this.base}/readyz`, { dispatcher: this.agent });
      await res.body.dump();
      if (res.statusCode === 200) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('gateway not ready after 10 s');
  }

  async setupPartner(adminToken: string): Promise<string> {
    await this.waitReady();
    const admin = `Bearer ${adminToken}`;
    await this.call('POST', '/admin/v1/partners', admin, JSON.stringify({ id: 'bench', name: 'Bench', contactEmail: 'bench@bench.example' }));
    await this.call('POST', '/admin/v1/partners/bench/agreements', admin, JSON.stringify(AGREEMENT));
    const cred = await this.call('POST', '/admin/v1/partners/bench/credentials', admin, '{}');
    const basic = `Basic ${Buffer.from(`${cred.clientId}:${cred.clientSecret}`).toString('base64')}`;
    const tok = await this.call('POST', '/oauth/token', basic, 'grant_type=client_credentials&scope=service_delivery', 'application/x-www-form-urlencoded');
    return tok.access_token;
  }

  async bulk(token: string): Promise<{ records: number; released: number; omitted: number; seconds: number }> {
    const t0 = process.hrtime.bigint();
    const res = await request(`${this.base}/v1/subjects?purpose=service_delivery`, { dispatcher: this.agent, headers: { authorization: `Bearer ${token}`, accept: 'application/x-ndjson' } });
    let released = 0;
    let tail = '';
    let last = '';
    for await (const chunk of res.body) {
      const text = tail + chunk.toString();
      const lines = text.split('\n');
      tail = lines.pop()!;
      for (const l of lines) if (l) { released++; last = l; }
    }
    if (tail) { released++; last = tail; }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const trailer = JSON.parse(last) as { omitted: number; error?: string };
    if (trailer.error) throw new Error(`bulk ended with ${trailer.error}`);
    released -= 1;
    return { records: released + trailer.omitted, released, omitted: trailer.omitted, seconds };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
