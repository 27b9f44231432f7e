// RULES 34: the process environment cannot weaken TLS. Node reads NODE_TLS_REJECT_UNAUTHORIZED and
// the --tls-* flags (from NODE_OPTIONS or the node command line) for every socket that does not set
// its own options; the gateway sets them everywhere, but a process started like that says someone
// meant to weaken TLS, so start-up refuses rather than trusting every call site to have been right.
import { ConfigError } from '../config/load.ts';

// Flags that lower the floor (RULES 32), replace the suites (RULES 33), drop TLS 1.3 (NIST 800-52r2:
// servers shall support it) or write session secrets to disk (which undoes the encryption).
const WEAKENING_FLAGS = ['--tls-min-v1.0', '--tls-min-v1.1', '--tls-max-v1.2', '--tls-cipher-list', '--tls-keylog'] as const;

function weakeningFlag(args: readonly string[]): string | undefined {
  for (const a of args) {
    const name = a.split('=')[0]!;
    const hit = WEAKENING_FLAGS.find((f) => f === name);
    if (hit) return hit;
  }
  return undefined;
}

// NODE_OPTIONS is split on whitespace as node does (quoted values cannot hide a flag name either:
// only the part before '=' is compared).
const splitOptions = (v: string | undefined): string[] => (v ?? '').split(/\s+/).filter(Boolean);

/**
 * Throws one line naming the variable (or the command-line flag) that would weaken TLS.
 * `execArgv` is the node command line before the script (process.execArgv).
 */
export function assertTlsEnvironment(env: Readonly<Record<string, string | undefined>>, execArgv: readonly string[] = []): void {
  const reject = env.NODE_TLS_REJECT_UNAUTHORIZED;
  if (reject !== undefined && reject.trim() === '0') {
    throw new ConfigError('NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate verification off; unset it (RULES 34: verification on every hop)');
  }
  const fromOptions = weakeningFlag(splitOptions(env.NODE_OPTIONS));
  if (fromOptions) throw new ConfigError(`NODE_OPTIONS must not contain ${fromOptions}: it weakens TLS (RULES 34: TLS 1.2+ with the gateway's suites only)`);
  const fromArgv = weakeningFlag(execArgv);
  if (fromArgv) throw new ConfigError(`the node command line must not contain ${fromArgv}: it weakens TLS (RULES 34: TLS 1.2+ with the gateway's suites only)`);
}
