// partner-gateway core-store: the reference core user store over HTTPS (CONTRACT 3).
import { loadConfig } from '../config/load.ts';
import { startCoreStore } from '../core-store/server.ts';
import { openSource } from '../core-store/open.ts';
import { untilSignal } from './signals.ts';
import { checkCertificates, daysLeft, expiringSoon } from '../tls/certificate-validity.ts';

/** RULES 36: the reference store's certificate obeys the same policy as the gateway's (refuse, or warn near expiry). */
export function checkCoreStoreCertificate(certPath: string, now = new Date()): void {
  const certs = checkCertificates([{ setting: 'coreStore.tls.cert', path: certPath }], now);
  for (const c of expiringSoon(certs, now)) {
    console.warn(JSON.stringify({ msg: 'TLS certificate expires soon; renew it (RULES 36)', setting: c.setting, daysLeft: daysLeft(c, now) }));
  }
}

export async function runCoreStore(env: NodeJS.ProcessEnv, args: { port?: string | undefined; data?: string | undefined }): Promise<number> {
  const config = loadConfig({
    env,
    requireFiles: ['coreStore.tls.cert', 'coreStore.tls.key'],
    overrides: {
      coreStore: {
        ...(args.port !== undefined ? { port: Number(args.port) } : {}),
        ...(args.data !== undefined ? { data: args.data } : {}),
      },
    },
  });
  const cs = config.coreStore;
  checkCoreStoreCertificate(cs.tls.cert);
  const source = await openSource(cs);
  const store = await startCoreStore({ port: cs.port, host: cs.host, tls: cs.tls, source });
  console.log(JSON.stringify({ msg: 'core store listening (HTTPS)', url: `https://localhost:${store.port}`, users: source.count }));
  await untilSignal();
  await store.close();
  return 0;
}
