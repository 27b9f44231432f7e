// Is Redis answering? Used by /readyz and by the gateway_redis_up gauge (issue 16), so both say
// the same thing: connected, and a PING answered within redis.commandTimeoutMs (a stopped Redis
// keeps its socket open, so `isReady` alone would report a hung server as up; DESIGN 1).
import { deadline } from '../transfer-log/deadline.ts';

export interface Pingable {
  readonly isReady: boolean;
  ping(): Promise<string>;
}

export async function redisUp(redis: Pingable, timeoutMs: number): Promise<boolean> {
  if (!redis.isReady) return false;
  try {
    return (await deadline(redis.ping(), timeoutMs)) === 'PONG';
  } catch {
    return false;
  }
}
