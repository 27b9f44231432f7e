// The one Redis type the rest of the code sees (issue 18, shared decision): plain command methods
// only, which a single client, a createCluster object and a createSentinel object all provide
// (cluster mode routes each by its first key). Anything node-level (SCAN, CONFIG GET, WAIT, INFO)
// goes through RedisTopology (topology.ts); pub/sub through Subscriber (subscriber.ts).
import type { RedisClient } from './client.ts';

type Command =
  | 'get' | 'set' | 'getDel' | 'del' | 'exists' | 'type' | 'keys' | 'ttl' | 'pTTL' | 'pExpire' | 'expire' | 'incr'
  | 'eval' | 'evalSha' | 'publish' | 'ping' | 'scriptFlush' | 'flushAll' | 'info' | 'configSet' | 'clientList'
  | 'hGet' | 'hGetAll' | 'hSet' | 'hDel' | 'hKeys' | 'hmGet' | 'hIncrBy' | 'hExists' | 'hLen'
  | 'sMembers' | 'sCard' | 'sIsMember' | 'sAdd' | 'sRem'
  | 'lLen' | 'lRange' | 'lIndex' | 'lRem' | 'lTrim' | 'rPush' | 'lPush'
  | 'zCard' | 'zScore' | 'zRange' | 'zRangeWithScores' | 'zRangeByScore' | 'zRem' | 'zRemRangeByScore' | 'zCount' | 'zAdd'
  | 'xAdd' | 'xRange' | 'xRevRange' | 'xLen' | 'xDel' | 'xTrim';

/** What every mode's command object has besides commands: readiness, events and shutdown. */
export interface RedisLifecycle {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): unknown;
}

export type Redis = Pick<RedisClient, Command> & RedisLifecycle;
