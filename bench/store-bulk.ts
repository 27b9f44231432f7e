// The bulk ceiling the store itself sets: every page of the reference core store read straight
// over TLS, with no gateway in between. The gateway's bulk pull cannot be faster than this.
import { Pool } from 'undici';
import { clientTlsOptions, type TlsFiles } from '../src/tls/options.ts';

export async function storeBulk(url: string, tls: TlsFiles, pageSize = 1000): Promise<{ records: number; seconds: number }> {
  const pool = new Pool(url, { connections: 1, connect: clientTlsOptions(tls) });
  const t0 = performance.now();
  let records = 0;
  let cursor: string | null = null;
  try {
    do {
      const qs: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await pool.request({ path: `/users?limit=${pageSize}${qs}`, method: 'GET' });
      if (res.statusCode !== 200) throw new Error(`store answered ${res.statusCode}`);
      const page = (await res.body.json()) as { items: unknown[]; nextCursor: string | null };
      records += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
  } finally {
    await pool.close();
  }
  return { records, seconds: (performance.now() - t0) / 1000 };
}
