// The whole configuration, validated at start (CONTRACT 9). Every rule here names its key.
import { z } from 'zod';
import { isCountryCode } from './countries.ts';
import { CATEGORIES, CORRESPONDENCE } from '../policy/taxonomy.ts';

const file = z.string().min(1).nullable();
const tlsFiles = z.strictObject({ ca: file, cert: file, key: file });
const rediss = z.string().startsWith('rediss://', { message: 'must start with rediss:// (TLS)' });
const country = z.string().refine(isCountryCode, { message: 'must be an ISO 3166-1 alpha-2 country code' });
const port = z.number().int().min(0).max(65535);
const pointer = z.string().regex(/^(\/[^/]*)+$/, 'must be a JSON pointer such as /phone');
const pointers = z.union([pointer, z.array(pointer).min(1)]);

export const POLICY_VERSION = /^\d{4}-(0[1-9]|1[0-2])$/;

const fieldMapKeys = [...CATEGORIES, CORRESPONDENCE] as const;

// RULES 43: staff SSO with MFA. issuer null: no single sign-on. When set, every other piece must be
// there and be https; exactly one way of authenticating the client; MFA is always required.
const https = z.string().regex(/^https:\/\/[^\s]+$/, 'must be an https:// URL');
const oidcSchema = z.strictObject({
  issuer: https.nullable(),
  name: z.string().min(1).max(60),
  clientId: z.string().min(1).nullable(),
  clientSecret: z.string().min(1).nullable(),
  privateKeyJwk: file,
  redirectUri: https.nullable(),
  ca: file,
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be OAuth scope tokens')).min(1),
  requireAmr: z.array(z.string().min(1)),
  requireAcr: z.array(z.string().min(1)),
  rolesClaim: z.string().min(1),
  roles: z.record(z.string().min(1), z.enum(['admin', 'auditor'])),
}).superRefine((o, ctx) => {
  if (o.issuer === null) return;
  const need = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (!o.clientId) need('clientId', 'is required when console.oidc.issuer is set');
  if (!o.redirectUri) need('redirectUri', 'is required when console.oidc.issuer is set (https://<control plane>/console/oidc/callback)');
  else if (URL.parse(o.redirectUri)?.pathname !== '/console/oidc/callback') need('redirectUri', 'must end in the path /console/oidc/callback');
  if ((o.clientSecret === null) === (o.privateKeyJwk === null)) need('clientSecret', 'exactly one of console.oidc.clientSecret and console.oidc.privateKeyJwk must be set');
  if (!o.scopes.includes('openid')) need('scopes', 'must include openid');
  if (o.requireAmr.length === 0 && o.requireAcr.length === 0) need('requireAmr', 'MFA is required for staff (RULES 43): set requireAmr (e.g. ["mfa"]) or requireAcr');
  if (Object.keys(o.roles).length === 0) need('roles', 'must map at least one claim value to admin or auditor');
});

export const configSchema = z.strictObject({
  server: z.strictObject({
    host: z.string().min(1),
    port,
    publicUrl: z.string().nullable(),
    bodyLimitBytes: z.number().int().min(1024).max(10 * 1024 * 1024),
    drainTimeoutMs: z.number().int().min(0),
    // Issue 17 item 2: worker processes behind the listeners; null = os.availableParallelism(), 1 = no cluster.
    workers: z.number().int().min(1).max(256).nullable(),
    tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1), ca: file, requestClientCert: z.boolean() }),
  }),
  // RULES 43: the control plane (admin API, /metrics, console) has its own HTTPS listener.
  admin: z.strictObject({
    host: z.string().min(1),
    port,
    // cert/key null: the partner listener's (server.tls); ca is only ever the staff CA, never inherited.
    tls: z.strictObject({ cert: file, key: file, ca: file, requireClientCert: z.boolean() }),
  }),
  upstream: z.strictObject({
    url: z.string().startsWith('https://', { message: 'must start with https://' }),
    healthPath: z.string().startsWith('/'),
    timeoutMs: z.number().int().min(100).max(120_000),
    connections: z.number().int().min(1).max(1024),
    tls: tlsFiles,
  }),
  // Issue [6/6] item 1: one Redis, a Sentinel-watched primary, or a Cluster; TLS only, every node.
  redis: z.strictObject({
    mode: z.enum(['single', 'sentinel', 'cluster']),
    url: rediss.nullable(),
    sentinel: z.strictObject({
      name: z.string().min(1).max(200).nullable(),
      nodes: z.array(rediss).max(32),
    }),
    cluster: z.strictObject({ nodes: z.array(rediss).max(64) }),
    tls: tlsFiles,
    commandTimeoutMs: z.number().int().min(50).max(60_000),
    region: country,
  }).superRefine((r, ctx) => {
    const need = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (r.mode === 'sentinel') {
      if (!r.sentinel.name) need(['sentinel', 'name'], 'must name the primary the Sentinels watch when redis.mode is sentinel');
      if (r.sentinel.nodes.length === 0) need(['sentinel', 'nodes'], 'must list at least one Sentinel (rediss://host:port) when redis.mode is sentinel');
    }
    if (r.mode === 'cluster' && r.cluster.nodes.length === 0) need(['cluster', 'nodes'], 'must list at least one cluster node (rediss://host:port) when redis.mode is cluster');
  }),
  logSink: z.strictObject({ region: country }),
  jurisdiction: z.strictObject({ home: country, adequate: z.array(country) }),
  policy: z.strictObject({
    versions: z
      .array(z.strictObject({
        version: z.string().regex(POLICY_VERSION, 'must look like 2024-03'),
        publishedAt: z.iso.datetime({ offset: true }),
      }))
      .min(1),
  }),
  retention: z.strictObject({
    afterTerminationDays: z.number().int().min(1),
    transferLogDays: z.number().int().min(1).nullable(),
  }).superRefine((r, ctx) => {
    // RULES 49: the log is kept at least as long as the data it describes may be held.
    if (r.transferLogDays !== null && r.transferLogDays < r.afterTerminationDays) {
      ctx.addIssue({
        code: 'custom', path: ['transferLogDays'],
        message: `must be at least retention.afterTerminationDays (${r.afterTerminationDays}): the transfer log outlives the data it describes (RULES 49)`,
      });
    }
  }),
  transferLog: z.strictObject({
    checkpointEvery: z.number().int().min(1).max(1_000_000),
    checkpointIntervalMs: z.number().int().min(100).max(86_400_000),
    // Issue [6/6] item 4: null is 0 with one Redis and 1 with Sentinel or Cluster (a replica must have it too).
    replicas: z.number().int().min(0).max(16).nullable(),
    waitTimeoutMs: z.number().int().min(1).max(60_000),
    maxBatch: z.number().int().min(1).max(10_000),
    maxScan: z.number().int().min(100).max(1_000_000),
    trimIntervalMs: z.number().int().min(1000),
    // Issue [1/6] 7a: who vouches for a Redis that hides CONFIG; null refuses such a Redis.
    durabilityAssertedBy: z.string().trim().min(8).max(500).nullable(),
    durabilityCheckIntervalMs: z.number().int().min(100).max(3_600_000),
    // Issue [3/6] item 3: signed statements are also appended here, outside Redis (DESIGN 10).
    anchors: z.strictObject({
      file: z.string().min(1),
      // An HTTPS witness, checked like a webhook (RULES 34, 45); null: none.
      witnessUrl: z.string().startsWith('https://', { message: 'must start with https://' })
        .refine((u) => URL.canParse(u) && !new URL(u).username && !new URL(u).password, { message: 'must be an https:// URL without credentials' }).nullable(),
    }),
  }),
  fieldMap: z.partialRecord(z.enum(fieldMapKeys), pointers),
  keys: z.strictObject({ dir: z.string().min(1) }),
  // RULES 29: how long a retired pseudonym key version still resolves (at most a year).
  // rotateEveryDays: null (off) or the age at which a partner's key rotates on its own (RULES 29).
  pseudonym: z.strictObject({
    rotationGraceSeconds: z.number().int().min(0).max(366 * 86_400),
    rotateEveryDays: z.number().int().min(1).max(3660).nullable(),
  }),
  // RULES 27: a re-identification request not approved within this long expires (a minute to 7 days).
  reidentification: z.strictObject({ requestTtlSeconds: z.number().int().min(60).max(7 * 86_400) }),
  // RULES 9: seeded canary strings the egress guard refuses to let out. At least 8 characters, so
  // a canary cannot match innocent output by chance; bounded, as every payload is searched for each.
  egressGuard: z.strictObject({
    canaries: z.array(z.string().max(256).refine((c) => c.trim().length >= 8, { message: 'must be a string of at least 8 non-blank characters' })).max(100),
  }),
  // RULES 50: the breach clock. notifyWithinHours: the notification deadline after detection (the
  // issue's 72 hours by default; KZ's one business day is reachable by setting 24). webhookUrl: ops
  // are told of each opened incident there, guarded as partner webhooks are (RULES 34, 45).
  incidents: z.strictObject({
    notifyWithinHours: z.number().int().min(1).max(720),
    webhookUrl: z.string().startsWith('https://', { message: 'must start with https://' })
      .refine((u) => URL.canParse(u) && !new URL(u).username && !new URL(u).password, { message: 'must be an https:// URL without credentials' }).nullable(),
  }),
  // RULES 48: examples kept per (UTC day, client, reason) in the access-denial record; the counts are exact.
  accessDenials: z.strictObject({ examplesPerKey: z.number().int().min(1).max(1000) }),
  coreStore: z.strictObject({
    host: z.string().min(1),
    port,
    users: z.number().int().min(1).max(10_000_000),
    data: z.string().nullable(),
    tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1), ca: file, requestClientCert: z.boolean() }),
  }),
  notices: z.strictObject({
    allowLoopbackWebhooks: z.boolean(),
    webhookCa: file, // null: Node's public roots; verification itself is never optional (RULES 34)
    deadLetterAfterMs: z.number().int().min(100).max(30 * 86_400_000),
    retryBaseMs: z.number().int().min(10).max(86_400_000),
    retryMaxMs: z.number().int().min(10).max(86_400_000),
    workerIntervalMs: z.number().int().min(10).max(60_000),
    timeoutMs: z.number().int().min(100).max(120_000),
    // RULES 23: how long a partner has to confirm a deletion notice before it is overdue (at most 30 days).
    confirmWithinSeconds: z.number().int().min(1).max(30 * 86_400),
  }).refine((n) => n.retryMaxMs >= n.retryBaseMs, { message: 'must be at least notices.retryBaseMs', path: ['retryMaxMs'] }),
  // Issue 16 ([4/6]): the staff console on the control-plane listener (RULES 43).
  console: z.strictObject({
    // Sign-in with an admin or auditor token; off unless asked for (`demo` turns it on).
    tokenLogin: z.boolean(),
    // The control plane's own origin for the Origin check on every POST; null: https://<Host of the request>.
    origin: z.string().regex(/^https:\/\/[^/?#@\s]+$/, 'must be an https:// origin without a path, e.g. https://console.example.kz:9443').nullable(),
    session: z.strictObject({
      idleMinutes: z.number().int().min(1).max(24 * 60),
      absoluteHours: z.number().int().min(1).max(7 * 24),
    }),
    oidc: oidcSchema,
    // Issue 16: the Overview page answers in under 1 s whatever the log size (overview.ts).
    overview: z.strictObject({
      // A view waits this long for the refresh under way, then shows what has been read so far.
      budgetMs: z.number().int().min(0).max(900),
      // The shared snapshot of the buckets (pg:console:overview) is written at most this often per instance.
      snapshotSeconds: z.number().int().min(1).max(300),
    }),
  }),
  limits: z.strictObject({
    maxPageSize: z.number().int().min(1).max(10_000),
    defaultPageSize: z.number().int().min(1),
    // CONTRACT 11 ([1/6]): every cursor handed out expires; at least a minute so a page can be read, at most 30 days.
    cursorTtlSeconds: z.number().int().min(60).max(30 * 86_400),
    // DESIGN 8: a stalled NDJSON reader is cut after this long without taking a byte.
    streamIdleTimeoutMs: z.number().int().min(100).max(3_600_000),
    // RULES 44, issue 17 item 3: the share of a partner's requestsPerMinute each process leases from
    // the shared Redis counter and grants from memory (http/rate-limit.ts); 0 counts every request in Redis.
    rateLimitLeasePercent: z.number().min(0).max(10),
  }),
  // Issue 16 page 6: each instance publishes which agreement versions it enforces, this often
  // (seconds); the record expires after three missed beats, so a stopped instance drops off.
  instances: z.strictObject({ heartbeatSeconds: z.number().int().min(1).max(300) }),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) }),
});

export type Config = z.infer<typeof configSchema>;
