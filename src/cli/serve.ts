// partner-gateway serve: the gateway alone, from configuration; SIGTERM drains then exits 0.
import { loadConfig } from '../config/load.ts';
import { startGateway } from '../main.ts';
import { untilSignal } from './signals.ts';

export async function serve(env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadConfig({ env });
  // CONTRACT 5: an admin token accepted from start; the gateway keeps only its hash.
  const gw = await startGateway(config, { bootstrapAdminToken: env.BOOTSTRAP_ADMIN_TOKEN || undefined });
  const sig = await untilSignal();
  gw.deps.log.info({ signal: sig }, 'draining in-flight requests');
  await gw.close();
  gw.deps.log.info('stopped');
  return 0;
}
