// The jurisdiction use cases (RULES 15-17, 20): the governed adequacy list and the country
// kill-switch, read by every decision through the in-memory cache and changed by admins.
//
// Configuration bootstrap: `jurisdiction.adequate` (plain codes) is written into the governed list
// once, while that list has never been governed (version 0), as entries approved by `config` with
// a review date one year out. From then on the governed list alone is in force; configuration is
// not merged, so an entry an admin removed cannot come back with a restart.
import type { Redis } from '../deps.ts';
import type { Subscriber } from '../redis/subscriber.ts';
import type { Logger } from '../log.ts';
import type { Config } from '../config/schema.ts';
import type { Actor } from '../auth/roles.ts';
import { Problem } from '../http/problem.ts';
import { JurisdictionStore } from './store.ts';
import { JurisdictionCache } from './cache.ts';
import { parseAdequacy, parseBlock, parseCountry, type AdequacyRecord, type BlockRecord } from './entries.ts';

export const BOOTSTRAP_REVIEW_DAYS = 365;
const CONFIG_ACTOR: Actor = { tokenId: 'config', role: 'admin' };

export interface JurisdictionView {
  version: number;
  home: string;
  adequate: Array<AdequacyRecord & { expired: boolean }>;
  blocked: BlockRecord[];
}

const notListed = (what: string, country: string) => new Problem({ status: 404, code: 'not_found', detail: `${country} is not ${what}` });

export function createJurisdiction(p: { redis: Redis; redisSub: Subscriber; config: Config; log: Logger; now?: () => Date }) {
  const now = p.now ?? (() => new Date());
  const home = p.config.jurisdiction.home;
  const store = new JurisdictionStore(p.redis);
  const bootstrap = p.config.jurisdiction.adequate.filter((c) => c !== home);
  const seed = async () => {
    if (bootstrap.length === 0) return;
    const at = now();
    const reviewBy = new Date(at.getTime() + BOOTSTRAP_REVIEW_DAYS * 86_400_000).toISOString();
    const entries = bootstrap.map((country) => ({
      country, justification: 'bootstrap from configuration (jurisdiction.adequate)', approvedBy: CONFIG_ACTOR.tokenId, approvedAt: at.toISOString(), reviewBy,
    }));
    const r = await store.seed(CONFIG_ACTOR, entries, at);
    if (!r.seeded) p.log.info({ version: r.version }, 'jurisdiction.adequate from configuration not applied: the governed list is in force');
  };
  const cache = new JurisdictionCache(p.redisSub, store, home, p.log, seed);

  /** Apply a change and make this instance see it before answering (others follow by pub/sub). */
  const applied = async (version: number | null, missing: () => Problem) => {
    if (version === null) throw missing();
    await cache.refresh();
    return version;
  };

  return {
    cache,
    get ready() { return cache.ready; },
    /** What decisions use now; throws 503 store_unavailable while not loaded (fail closed). */
    current: () => cache.current(),

    /** The state in Redis now (authoritative), with each entry's expiry as of now. */
    async view(): Promise<JurisdictionView> {
      const s = await store.read();
      const t = now().getTime();
      return { version: s.version, home, adequate: s.adequate.map((e) => ({ ...e, expired: !(Date.parse(e.reviewBy) >= t) })), blocked: s.blocked };
    },

    async putAdequate(actor: Actor, country: string, raw: unknown) {
      const at = now();
      const body = parseAdequacy(country, raw, home, at);
      const entry: AdequacyRecord = { country, justification: body.justification, approvedBy: actor.tokenId, approvedAt: at.toISOString(), reviewBy: body.reviewBy };
      const version = await applied(await store.change(actor, 'adequate', country, entry, at), () => notListed('listed', country));
      return { version, entry };
    },

    async removeAdequate(actor: Actor, country: string) {
      parseCountry(country);
      return { version: await applied(await store.change(actor, 'adequate', country, null, now()), () => notListed('on the adequate list', country)) };
    },

    async block(actor: Actor, country: string, raw: unknown) {
      const at = now();
      const { reason } = parseBlock(country, raw);
      const entry: BlockRecord = { country, reason, blockedBy: actor.tokenId, blockedAt: at.toISOString() };
      const version = await applied(await store.change(actor, 'blocked', country, entry, at), () => notListed('listed', country));
      return { version, entry };
    },

    async unblock(actor: Actor, country: string) {
      parseCountry(country);
      return { version: await applied(await store.change(actor, 'blocked', country, null, now()), () => notListed('blocked', country)) };
    },

    history: (limit: number, cursor?: string) => store.history(limit, cursor),
    close: () => cache.close(),
  };
}

export type JurisdictionService = ReturnType<typeof createJurisdiction>;
