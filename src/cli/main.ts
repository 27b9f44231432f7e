// partner-gateway <command>: CONTRACT 10. Only main.ts and cli/ touch `process`.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { loadConfig, ConfigError, REPO_ROOT } from '../config/load.ts';
import { writeDevCerts } from '../tls/dev-certs.ts';
import { initKeys, KeyFilesExist } from '../keys/files.ts';
import { serve } from './serve.ts';
import { tokensCommand } from './tokens.ts';
import { runCoreStore } from './core-store.ts';
import { demo } from './demo.ts';
import { logCommand } from './log-verify.ts';
import { keysCommand } from './keys-rotate.ts';
import { assertTlsEnvironment } from '../tls/environment-guard.ts';
import { configCommand } from './config-check.ts';

// RULES 34: every command that opens a TLS listener or connection (Redis for tokens, keys and log)
// refuses an environment that weakens TLS. Only `certs` and help, which open nothing, skip it.
// `config check` too: it answers for the environment it runs in as serve would (issue [6/6] item 6).
const TLS_COMMANDS = new Set(['serve', 'demo', 'core-store', 'tokens', 'keys', 'log', 'config']);

const USAGE = `usage: partner-gateway <command>
  demo                           dev certs, local TLS Redis, core store, gateway, a demo partner pull
  serve [--workers N]            the gateway alone, from configuration; N worker processes share its listeners (default server.workers)
  core-store [--port N] [--data FILE.ndjson]   the reference core user store (HTTPS)
  config check [--for serve|core-store] FILE   validate FILE as serve (or core-store) would load it, opening nothing: prints ok and a summary (exit 0) or the one line serve would print (exit 1)
  certs [--out DIR] [--force] [--host NAME]...  a dev CA and localhost certificates for every hop; each --host is also named by the server certificates (gateway, core-store, redis)
  keys init [--out DIR] [--force]  fresh key material for keys.dir
  keys rotate --partner ID [--grace-seconds N]  the partner's next pseudonym key version (RULES 29)
  keys rotate-signing [--out DIR]  a new gateway signing key; the old public key stays in the JWKS
  keys prune-signing [--out DIR]   drop retired signing keys that no stored checkpoint names
  log verify [--jwks FILE] [--anchors FILE] [--json]  check the transfer log chains, checkpoints, registry, anchors and the recipients index (exit 1 naming the first break or the drift)
  log verify --receipt FILE [--jwks FILE] [--json]  prove a partner's receipt against the log (0 included, 1 tampering or invalid, 3 trimmed)
  log rebuild-recipients [--json]   rebuild the recipients index from a verified log, printing what changed (safe while gateways run)
  tokens create --role R [--label L] [--ttl-seconds N] | tokens revoke --id ID   admin, auditor and core_store tokens`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd !== undefined && TLS_COMMANDS.has(cmd)) assertTlsEnvironment(process.env, process.execArgv);
    switch (cmd) {
      case 'certs': {
        const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, force: { type: 'boolean' }, host: { type: 'string', multiple: true } } });
        const dir = resolve(values.out ?? resolve(REPO_ROOT, 'certs/dev'));
        for (const h of values.host ?? []) if (!/^[A-Za-z0-9.:-]{1,253}$/.test(h)) throw new ConfigError(`--host: not a host name or IP address (${h})`);
        const paths = await writeDevCerts(dir, { force: values.force ?? true, hosts: values.host ?? [] });
        console.log(`dev CA and certificates written to ${dir} (CA: ${paths.ca})`);
        return 0;
      }
      case 'keys': {
        if (rest[0] !== undefined && rest[0] !== 'init' && !rest[0].startsWith('-')) return await keysCommand(process.env, rest);
        const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: 'string' }, force: { type: 'boolean' } } });
        if (positionals[0] !== 'init') break;
        const dir = resolve(values.out ?? loadConfig({ env: process.env, requireFiles: [] }).keys.dir);
        initKeys(dir, { force: values.force ?? false });
        console.log(`key material written to ${dir} (mode 0600)`);
        return 0;
      }
      case 'tokens':
        return await tokensCommand(process.env, rest);
      case 'serve':
        return await serve(process.env, rest);
      case 'core-store': {
        const { values } = parseArgs({ args: rest, options: { port: { type: 'string' }, data: { type: 'string' } } });
        return await runCoreStore(process.env, values);
      }
      case 'demo':
        return await demo(process.env);
      case 'log':
        return await logCommand(process.env, rest);
      case 'config':
        return configCommand(process.env, rest);
      case undefined:
      case 'help':
      case '--help':
        console.log(USAGE);
        return cmd === undefined ? 2 : 0;
    }
    console.error(`unknown command: ${[cmd, ...rest].join(' ')}\n${USAGE}`);
    return 2;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof KeyFilesExist) {
      console.error(`partner-gateway: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
