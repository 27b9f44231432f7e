// TLS options for outbound webhook-like posts (notice webhooks, the transfer log's witness):
// notices.webhookCa or Node's public roots, verification always on (RULES 34).
import { isAbsolute, resolve } from 'node:path';
import { clientTlsOptions } from '../tls/options.ts';
import { ConfigError, REPO_ROOT } from '../config/load.ts';

export function webhookTls(ca: string | null) {
  const path = ca === null || isAbsolute(ca) ? ca : resolve(REPO_ROOT, ca);
  try {
    return clientTlsOptions({ ca: path }); // RULES 34: null → Node's public roots, never "no checks"
  } catch (e) {
    throw new ConfigError(`notices.webhookCa: cannot read ${path} (${(e as Error).message.split('\n')[0]})`);
  }
}
