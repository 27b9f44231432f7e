// The one place that opens Redis, the upstream client and key material (DESIGN: only deps.ts
// constructs clients). Everything else receives them.
import { deadline } from './transfer-log/deadline.ts';
import { createClient } from 'redis';
import { clientTlsOptions, type TlsFiles } from './tls/options.ts';
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

export type Redis = ReturnType<typeof createRedisClient>;

export interface Deps {
  config: Config;
  log: Logger;
  redis: Redis;
  /** A second connection for SUBSCRIBE (a subscribed connection cannot run other commands). */
  redisSub: Redis;
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
      // Keep trying in the background; readiness reports false meanwhile.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
    },
    // Fail closed: while disconnected, commands fail at once instead of queueing behind an outage.
    disableOfflineQueue: true,
    // No per-command timeout option: node-redis applies it only while a command is queued, not once
    // it is on the socket (so it never bounded a hung Redis), and its per-command AbortSignal showed
    // in the bench profile. Hot-path callers set their own deadline (transfer-log/deadline.ts).
  });
  let lastError = '';
  client.on('error', (e: Error) => {
    // Log each distinct failure once, not once per reconnect attempt.
    if (e.message !== lastError) log?.warn({ err: { name: e.name, message: e.message } }, 'redis connection error');
    lastError = e.message;
  });
  client.on('ready', () => {
    if (lastError) log?.info('redis connection restored');
    lastError = '';
  });
  return client;
}

/** Connect without blocking start-up on an outage: the client keeps retrying. */
export function connectInBackground(client: Redis, log: Logger): void {
  client.connect().catch((e: Error) => log.warn({ err: { message: e.message } }, 'redis not reachable at start'));
}

/**
 * The start-up checks that open nothing. createDeps runs them; so does the `serve --workers N`
 * primary before it forks, so a bad setting stops the service with its own message instead of
 * every worker dying of it in turn (issue 17 item 2).
 */
export function startupChecks(config: Config, opts: Pick<DepsOptions, 'bootstrapAdminToken'> = {}): { redisUrl: string; certificates: readonly CertificateValidity[] } {
  // Issue [6/6]: redis.url is single mode's; sentinel and cluster find their nodes through their seeds
  // (engineer A's src/redis/ opens them). ConfigError: one line naming the key, as CONTRACT 9 asks.
  const redisUrl = config.redis.url ?? '';
  if (config.redis.mode === 'single' && !redisUrl) throw new ConfigError('redis.url: not set (rediss://host:port); `partner-gateway demo` starts a local one');
  const boot = opts.bootstrapAdminToken;
  if (boot !== undefined && boot.length < 32) throw new ConfigError('BOOTSTRAP_ADMIN_TOKEN must be at least 32 characters (use a random value)');
  // RULES 36: an expired or over-long certificate refuses start-up, before anything is opened.
  return { redisUrl, certificates: checkCertificates(gatewayCertificateSettings(config), new Date()) };
}

export async function createDeps(config: Config, opts: DepsOptions = {}): Promise<Deps> {
  const { redisUrl, certificates } = startupChecks(config, opts);
  const boot = opts.bootstrapAdminToken;
  const log = opts.log ?? createLogger(config.log.level);
  const keys = loadKeys(config.keys.dir);
  const redis = createRedisClient(redisUrl, config.redis.tls, config.redis.commandTimeoutMs, log);
  const redisSub = redis.duplicate();
  redisSub.on('error', () => undefined); // reported by the main client
  connectInBackground(redis, log);
  connectInBackground(redisSub, log);
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
  const transferLog = createTransferLog({ redis, keys, config, log, observer: transferLogObserver(metrics), onVerified: (r) => { const i = fromVerify(r); if (i) incidents.report(i); } });
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
    config, log, redis, redisSub, heartbeat, instance, certificates, accessDenials, incidents, upstream, keys, metrics, agreements, transferLog, jurisdiction, partnerKeys, keyRotation, partnerTokenCache, notices,
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
      await Promise.allSettled([redis.close(), redisSub.close(), upstream.close()]);
    },
  };
}
