// partner-gateway tokens create | revoke (CONTRACT 5: role tokens are minted by the API "or the
// CLI"). The token is printed once and kept only as a SHA-256 hash; both acts are audited.
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '../config/load.ts';
import { AdminTokens } from '../auth/admin-tokens.ts';
import { Problem } from '../http/problem.ts';
import { REDIS_FILES, withRedis, cliActor } from './redis-session.ts';

export const TOKENS_USAGE = `usage: partner-gateway tokens create --role admin|auditor|core_store|metrics [--label TEXT] [--ttl-seconds N]
       partner-gateway tokens revoke --id TOKEN_ID`;

const OPTIONS = { role: { type: 'string' }, label: { type: 'string' }, 'ttl-seconds': { type: 'string' }, id: { type: 'string' } } as const;

export async function tokensCommand(env: NodeJS.ProcessEnv, args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    console.error(`partner-gateway: ${(e as Error).message}\n${TOKENS_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const sub = positionals[0];
  if ((sub !== 'create' && sub !== 'revoke') || (sub === 'revoke' && !values.id)) {
    console.error(TOKENS_USAGE);
    return 2;
  }
  const config = loadConfig({ env, requireFiles: REDIS_FILES });
  try {
    if (sub === 'create') {
      const body = {
        role: values.role, ...(values.label !== undefined ? { label: values.label } : {}),
        ...(values['ttl-seconds'] !== undefined ? { ttlSeconds: Number(values['ttl-seconds']) } : {}),
      };
      const t = await withRedis(config, 'mint a token', (redis) => new AdminTokens(redis).mint(cliActor(), body));
      console.log(JSON.stringify({ id: t.id, role: t.role, label: t.label, expiresAt: t.expiresAt, token: t.token }));
      return 0;
    }
    const gone = await withRedis(config, 'revoke a token', (redis) => new AdminTokens(redis).revoke(cliActor(), values.id!));
    if (!gone) throw new ConfigError(`no live token ${values.id}`);
    console.log(`revoked ${values.id}`);
    return 0;
  } catch (e) {
    // A validation problem (unknown role, bad ttl) is one line naming the field.
    if (e instanceof Problem) {
      const errors = (e.extra.errors as Array<{ field: string; reason: string }> | undefined) ?? [];
      throw new ConfigError(errors.length ? errors.map((x) => `--${x.field === 'ttlSeconds' ? 'ttl-seconds' : x.field}: ${x.reason}`).join('; ') : e.message);
    }
    throw e;
  }
}
