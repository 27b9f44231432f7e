// partner-gateway core-store: the reference core user store over HTTPS (CONTRACT 3).
import { loadConfig } from '../config/load.ts';
import { startCoreStore } from '../core-store/server.ts';
import { openSource } from '../core-store/open.ts';
import { untilSignal } from './signals.ts';

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
  const source = await openSource(cs);
  const store = await startCoreStore({ port: cs.port, host: cs.host, tls: cs.tls, source });
  console.log(JSON.stringify({ msg: 'core store listening (HTTPS)', url: `https://localhost:${store.port}`, users: source.count }));
  await untilSignal();
  await store.close();
  return 0;
}
