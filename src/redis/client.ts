// A plain node-redis client to one Redis (single mode, CLI sessions, tests): verified TLS, fail
// closed while disconnected, reconnecting in the background. Moved here from deps.ts (issue 18
// item 1: src/redis/ is the one place that opens Redis, in every mode).
import { createClient } from 'redis';
import { clientTlsOptions, type TlsFiles } from '../tls/options.ts';
import type { Logger } from '../log.ts';

/** Keep trying in the background; readiness reports false meanwhile. */
export const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** retries, 1000);

export function createRedisClient(url: string, tls: TlsFiles, commandTimeoutMs: number, log?: Logger) {
  const client = createClient({
    url,
    // node-redis 6 speaks RESP3 by default; the replies this code was written and tested against are
    // RESP2's (script results, stream entries), so the wire format stays as it was.
    RESP: 2,
    socket: {
      tls: true,
      ...clientTlsOptions(tls), // RULES 34: CA and host name verified
      connectTimeout: commandTimeoutMs,
      reconnectStrategy,
    },
    // Fail closed: while disconnected, commands fail at once instead of queueing behind an outage.
    disableOfflineQueue: true,
    // No per-command timeout option: node-redis applies it only while a command is queued, not once
    // it is on the socket (so it never bounded a hung Redis), and its per-command AbortSignal showed
    // in the bench profile. Hot-path callers set their own deadline (transfer-log/deadline.ts).
  });
  logOnce(client, log);
  return client;
}

export type RedisClient = ReturnType<typeof createRedisClient>;

interface Emitter { on(event: string, fn: (...a: any[]) => void): unknown }

/** Log each distinct failure once, not once per reconnect attempt. */
export function logOnce(emitter: Emitter, log?: Logger, what = 'redis'): void {
  let lastError = '';
  emitter.on('error', (e: Error | string) => {
    const err = typeof e === 'string' ? new Error(e) : e;
    if (err.message !== lastError) log?.warn({ err: { name: err.name, message: err.message } }, `${what} connection error`);
    lastError = err.message;
  });
  emitter.on('ready', () => {
    if (lastError) log?.info(`${what} connection restored`);
    lastError = '';
  });
}
