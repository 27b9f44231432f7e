// The one place that opens Redis, the upstream client and key material (DESIGN: only deps.ts
// constructs clients). Everything else receives them.
import { deadline } from './transfer-log/deadline.ts';
import { openRedis } from './redis/open.ts';
import type { Subscriber } from './redis/subscriber.ts';
import type { RedisTopology } from './redis/topology.ts';
import { Upstream } from './upstream/client.ts';
import { loadKeys, type KeyMaterial } from './keys/files.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import type { Config } from './config/schema.ts';
import { ConfigError } from './config/load.ts';
import { sha256 } from './auth/admin-tokens.ts';
import { ActiveAgreements } from './agreements/active-cache.ts';
import { Agreements } from './agreements/agreement-store.ts';
import { agreementRules } from './agreements/admin-services.ts';
import { createTransferLog, type TransferLog } from './transfer-log/index.ts';
import { createNotices, type Notices } from './notices/index.ts';
import { createJurisdiction, type JurisdictionService } from './jurisdiction/service.ts';
import { PartnerKeyVersions } from './keys/partner-key-versions.ts';
import { ScheduledRotation } from './keys/scheduled-rotation.ts';
import { PartnerTokenCache } from './auth/partner-token-cache.ts';
import { SubscriberHeartbeat } from './cache/subscriber-heartbeat.ts';
import { InstanceHeartbeat } from './agreements/instance-heartbeat.ts';
import { checkCertificates, gatewayCertificateSettings, type CertificateValidity } from './tls/certificate-validity.ts';
import { registerCertificateGauge, warnExpiring } from './tls/certificate-expiry.ts';
import { deliveryObserver, registerRedisGauge, transferLogObserver } from './metrics-backends.ts';
import { redisUp } from './redis/health.ts';
import { createAccessDenials, type AccessDenials } from './access-denials/index.ts';
import { createIncidents, fromVerify, type Incidents } from './incidents/index.ts';
import { registerIncidentMetrics } from './incidents/metric.ts';
import { webhookTls } from './notices/webhook-tls.ts';
import { noticeSigner } from './notices/sign.ts';
import type { Registry } from 'prom-client';
import type { WorkersView } from './http/ops.ts';
import type { MetricsSource } from './http/metrics-route.ts';

// Issue 18: the Redis type is the narrow command type a single client, a cluster and a sentinel
// object all satisfy; clients are opened in src/redis/ only. Re-exported here for existing imports.
export type { Redis } from './redis/types.ts';
export { createRedisClient, type RedisClient } from './redis/client.ts';
import type { Redis } from './redis/types.ts';

export interface Deps {
  config: Config;
  log: Logger;
  redis: Redis;
  /** A second connection for SUBSCRIBE (a subscribed connection cannot run other commands). */
  redisSub: Subscriber;
  /** Issue 18: node-level work (SCAN, CONFIG GET, WAIT) in the configured mode. */
  redisTopology: RedisTopology;
  upstream: Upstream;
  keys: KeyMaterial;
  metrics: Metrics;
  /** Every partner's current agreement, in memory, kept current through Redis pub/sub. */
  agreements: ActiveAgreements;
  /** The tamper-evident transfer log (CONTRACT 7): nothing is released before its entry is durable. */
  transferLog: TransferLog;
  /** Notices to partners (RULES 12, 23): pull streams, webhook deliveries and delete-by dates, with its worker. */
  notices: Notices;
  /** The governed adequacy list and country kill-switch (RULES 17, 20), in memory, kept current through pub/sub. */
  jurisdiction: JurisdictionService;
  /** Every partner's pseudonym key versions (RULES 29), in memory, kept current through Redis pub/sub. */
  partnerKeys: PartnerKeyVersions;
  /** RULES 29: the scheduled key rotation (pseudonym.rotateEveryDays), null when off. */
  keyRotation: ScheduledRotation | null;
  /** Known partner tokens in memory; revocations evict them through Redis pub/sub (RULES 41). */
  partnerTokenCache: PartnerTokenCache;
  /** Watches redisSub end to end; the caches on it are not ready while it is overdue. */
  heartbeat: SubscriberHeartbeat;
  /** Issue 16: this instance's id and the agreement versions it enforces, published to Redis. */
  instance: InstanceHeartbeat;
  /** RULES 48: refusals before a partner is known (client auth, bearer, 429, TLS floor), bounded per day. */
  accessDenials: AccessDenials;
  /** RULES 50: the breach clock — incidents with a notification deadline, metric, ops webhook. */
  incidents: Incidents;
  /** Validity of the certificates the gateway presents (RULES 36), for /readyz and the metric. */
  certificates: readonly CertificateValidity[];
  /** The gateway's external base URL: server.publicUrl, or https://localhost:<bound port>. */
  publicUrl(): string;
  /** Called by main.ts once the listener has its port. */
  setListeningPort(port: number): void;
  /** SHA-256 of BOOTSTRAP_ADMIN_TOKEN; the token itself is never kept. */
  bootstrapAdminTokenHash?: Buffer;
  /** Issue 17 item 2: in a `serve --workers N` worker, the primary's view (readiness, metrics); null alone. */
  cluster: WorkerCluster | null;
  close(): Promise<void>;
}

/** What a cluster worker asks of its primary: every worker's readiness and the aggregated metrics. */
export type WorkerCluster = WorkersView & { metrics: MetricsSource };

export interface DepsOptions {
  log?: Logger;
  /** BOOTSTRAP_ADMIN_TOKEN (CONTRACT 5): an admin token accepted from start. */
  bootstrapAdminToken?: string;
  /** In a cluster worker: builds the link to the primary around this process's metrics registry. */
  cluster?: (registry: Registry) => WorkerCluster;
}

/**
 * The start-up checks that open nothing. createDeps runs them; so does the `serve --workers N`
 * primary before it forks, so a bad setting stops the service with its own message instead of
 * every worker dying of it in turn (issue 17 item 2).
 */
export function startupChecks(config: Config, opts: Pick<DepsOptions, 'bootstrapAdminToken'> = {}): { certificates: readonly CertificateValidity[] } {
  // Issue [6/6]: redis.url is needed in single mode only (the schema checks the other modes' seeds).
  // ConfigError: one line naming the key, as CONTRACT 9 asks.
  if (config.redis.mode === 'single' && !config.redis.url) throw new ConfigError('redis.url: not set (rediss://host:port); `partner-gateway demo` starts a local one');
  const boot = opts.bootstrapAdminToken;
  if (boot !== undefined && boot.length < 32) throw new ConfigError('BOOTSTRAP_ADMIN_TOKEN must be at least 32 characters (use a random value)');
  // RULES 36: an expired or over-long certificate refuses start-up, before anything is opened.
  return { certificates: checkCertificates(gatewayCertificateSettings(config), new Date()) };
}

export async function createDeps(config: Config, opts: DepsOptions = {}): Promise<Deps> {
  const { certificates } = startupChecks(config, opts);
  const boot = opts.bootstrapAdminToken;
  const log = opts.log ?? createLogger(config.log.level);
  const keys = loadKeys(config.keys.dir);
  const opened = openRedis(config.redis, log);
  const { redis, sub: redisSub, topology: redisTopology } = opened;
  opened.connectInBackground();
  const upstream = new Upstream(config.upstream);
  const metrics = createMetrics();
  registerCertificateGauge(metrics.registry, certificates);
  warnExpiring(log, certificates, new Date());
  const agreements = new ActiveAgreements(redis, redisSub, new Agreements(redis, agreementRules(config)), log);
  // RULES 50: the gauge reads the open count from Redis at each scrape.
  // Bounded like every Redis read: a hung Redis must not hang the whole /metrics scrape (found by
  // monitoring.test.ts's hung-Redis case once incidents were merged).
  const incidentMetrics = registerIncidentMetrics(metrics.registry, () => deadline(incidents.openCount(), config.redis.commandTimeoutMs));
  const incidents: Incidents = createIncidents(redis, log, {
    notifyWithinHours: config.incidents.notifyWithinHours,
    onOpened: (kind) => incidentMetrics.opened.inc({ kind }),
    ...(config.incidents.webhookUrl ? {
      notifier: {
        url: config.incidents.webhookUrl,
        // RULES 34, 45: the partner webhooks' TLS, URL guard and limits.
        webhook: { tls: webhookTls(config.notices.webhookCa), allowLoopback: config.notices.allowLoopbackWebhooks, timeoutMs: config.notices.timeoutMs },
        // The notice signer signs any JSON body (ES256, the key /.well-known/jwks.json publishes).
        sign: noticeSigner(keys.signingJwk) as (p: object) => Promise<string>,
        retryBaseMs: config.notices.retryBaseMs, retryMaxMs: config.notices.retryMaxMs,
      },
    } : {}),
  });
  // RULES 50: a failed verify or an anchor mismatch opens an incident.
  const transferLog = createTransferLog({ redis, topology: redisTopology, keys, config, log, observer: transferLogObserver(metrics), onVerified: (r) => { const i = fromVerify(r); if (i) incidents.report(i); } });
  // RULES 48: kept as long as the transfer log (retention.transferLogDays; null keeps it like the log does).
  const accessDenials = createAccessDenials(redis, log, {
    examplesPerKey: config.accessDenials.examplesPerKey, retentionDays: config.retention.transferLogDays,
    onWriteFailed: (n) => metrics.accessDenialsUnrecorded.inc(n),
    onRecorded: (reason) => metrics.accessDenials.inc({ reason }),
  });
  const notices = createNotices({ redis, config, log, keys, agreements, deliveries: deliveryObserver(metrics), registry: metrics.registry });
  const jurisdiction = createJurisdiction({ redis, redisSub, config, log });
  const partnerKeys = new PartnerKeyVersions(redis, redisSub, config.pseudonym.rotationGraceSeconds, log);
  const partnerTokenCache = new PartnerTokenCache(redisSub, log);
  const every = config.pseudonym.rotateEveryDays;
  const keyRotation = every === null ? null : new ScheduledRotation({
    store: partnerKeys.store, agreementStatus: (id) => agreements.current(id)?.status, rotateEveryDays: every, log,
  });
  keyRotation?.start();
  // DESIGN 1: the caches above stop answering while their subscriber is silently gone.
  const heartbeat = new SubscriberHeartbeat(redis, redisSub);
  heartbeat.start();
  const instance = new InstanceHeartbeat(redis, agreements, config.instances.heartbeatSeconds * 1000);
  instance.start();
  registerRedisGauge(metrics.registry, {
    commands: () => redisUp(redis, config.redis.commandTimeoutMs),
    subscriber: () => redisSub.isReady && heartbeat.fresh,
  });
  let port = config.server.port;
  return {
    config, log, redis, redisSub, redisTopology, heartbeat, instance, certificates, accessDenials, incidents, upstream, keys, metrics, agreements, transferLog, jurisdiction, partnerKeys, keyRotation, partnerTokenCache, notices,
    publicUrl: () => (config.server.publicUrl ?? `https://localhost:${port}`).replace(/\/+$/, ''),
    setListeningPort: (p) => { port = p; },
    cluster: opts.cluster?.(metrics.registry) ?? null,
    ...(boot ? { bootstrapAdminTokenHash: sha256(boot) } : {}),
    async close() {
      await notices.close(); // an attempt in flight is recorded while Redis is still open
      await accessDenials.settled();
      await incidents.close();
      await keyRotation?.close();
      agreements.close();
      jurisdiction.close();
      partnerKeys.close();
      partnerTokenCache.close();
      heartbeat.close();
      instance.close();
      await transferLog.close();
      await Promise.allSettled([opened.close(), upstream.close()]);
    },
  };
}
