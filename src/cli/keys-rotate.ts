// partner-gateway keys rotate | rotate-signing | prune-signing (RULES 29).
//   rotate --partner ID [--grace-seconds N]: the partner's next pseudonym key version, through
//     Redis (audited and published to every instance); N may only shorten pseudonym.rotationGraceSeconds
//     (0: old pseudonyms stop resolving at once, e.g. when a partner is compromised).
//   rotate-signing [--out DIR]: a new gateway signing key; the old public key stays published.
//   prune-signing [--out DIR]: drop retired signing keys no stored checkpoint names any more.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { loadConfig, ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { PartnerKeyStore } from '../keys/partner-key-store.ts';
import { rotateSigningKey, checkpointKids, pruneRetiredSigning } from '../keys/signing-rotation.ts';
import { RETIRED_SIGNING_FILE } from '../keys/files.ts';
import { logKeys } from '../transfer-log/keys.ts';
import { REDIS_FILES, withRedis, cliActor } from './redis-session.ts';

export const KEYS_USAGE = `usage: partner-gateway keys rotate --partner ID [--grace-seconds N]
       partner-gateway keys rotate-signing [--out DIR]
       partner-gateway keys prune-signing [--out DIR]`;

async function rotatePartner(env: NodeJS.ProcessEnv, partner: string | undefined, graceArg: string | undefined): Promise<number> {
  if (!partner) {
    console.error(KEYS_USAGE);
    return 2;
  }
  const config = loadConfig({ env, requireFiles: REDIS_FILES });
  const max = config.pseudonym.rotationGraceSeconds;
  const grace = graceArg === undefined ? undefined : Number(graceArg);
  if (grace !== undefined && !(Number.isInteger(grace) && grace >= 0 && grace <= max)) {
    throw new ConfigError(`--grace-seconds must be an integer from 0 to pseudonym.rotationGraceSeconds (${max})`);
  }
  const r = await withRedis(config, 'rotate the key', (redis) =>
    new PartnerKeyStore(redis).rotate(cliActor(), partner, grace === undefined ? {} : { graceSeconds: grace }));
  const prev = r.retired[0]!;
  const until = new Date(Date.parse(prev.retiredAt) + (prev.graceSeconds ?? max) * 1000).toISOString();
  console.log(`partner ${partner}: pseudonym key version ${r.current} is current; version ${prev.version} pseudonyms resolve until ${until}`);
  return 0;
}

const OPTIONS = { partner: { type: 'string' }, 'grace-seconds': { type: 'string' }, out: { type: 'string' } } as const;

export async function keysCommand(env: NodeJS.ProcessEnv, args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    console.error(`partner-gateway: ${(e as Error).message}\n${KEYS_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const sub = positionals.join(' ');
  try {
    if (sub === 'rotate') return await rotatePartner(env, values.partner, values['grace-seconds']);
    if (sub === 'rotate-signing' || sub === 'prune-signing') {
      const config = loadConfig({ env, requireFiles: sub === 'prune-signing' ? REDIS_FILES : [] });
      const dir = resolve(values.out ?? config.keys.dir);
      if (sub === 'rotate-signing') {
        const r = rotateSigningKey(dir);
        console.log(`signing key rotated in ${dir}: new kid ${r.kid}; retired kid ${r.retiredKid} stays published (${RETIRED_SIGNING_FILE}). Restart every gateway instance to sign with the new key.`);
        return 0;
      }
      const kids = await withRedis(config, 'read the checkpoints', (redis) => checkpointKids(redis, logKeys()));
      if (!kids) throw new ConfigError('a stored checkpoint has an unreadable header; no retired key was dropped');
      const r = pruneRetiredSigning(dir, kids);
      console.log(`retired signing keys dropped: ${r.dropped.join(', ') || 'none'}; still needed by stored checkpoints: ${r.kept.join(', ') || 'none'}`);
      return 0;
    }
  } catch (e) {
    // An unknown partner, unreadable key files, an unreachable Redis: one line, exit 1.
    if (e instanceof ConfigError) throw e;
    console.error(`partner-gateway: ${(e as Error).message}`);
    return 1;
  }
  console.error(KEYS_USAGE);
  return 2;
}
