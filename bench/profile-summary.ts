// Issue 17 (must show "the profile that shows it"): where the gateway's CPU goes on the full path,
// from the --cpu-prof profile that `BENCH_ONLY=full BENCH_PROFILE=gateway npm run bench` writes.
// Each busy sample is put in one bucket by its leaf frame; Node's own HTTP, TLS, stream and crypto
// frames go to the nearest caller that says why (undici: the upstream hop; node-redis: Redis; a
// gateway module: that module's work), so the buckets answer "what could be removed".
//   node --import tsx bench/profile-summary.ts PROFILE.cpuprofile [--from SECONDS] [--requests N]
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number }

const FRAMEWORK = /node_modules\/(express|router|passport[^/]*|negotiator|accepts|type-is|content-type|on-finished|finalhandler|send|etag|fresh|qs|body-parser|raw-body|mime[^/]*|depd|parseurl|encodeurl|escape-html|statuses|cookie|vary|proxy-addr|forwarded|range-parser|media-typer|merge-descriptors|setprototypeof|http-errors|iconv-lite|safer-buffer|ee-first|unpipe|destroy|debug|ms)\//;

const FRAMEWORK_BUCKET = 'framework (express 5, router, passport)';
const LISTENER = 'Node: partner listener HTTP, TLS, event loop';

/** The bucket of a library or app frame, or null for Node's own frames (decided by a caller). */
function owner(url: string, fn: string): string | null {
  if (url.includes('/node_modules/undici/')) return 'upstream hop (undici, its TLS and sockets)';
  if (url.includes('/node_modules/@redis/')) return 'Redis client (node-redis, its TLS and sockets)';
  if (url.includes('/node_modules/zod/')) return 'zod (request input checks)';
  if (/node_modules\/(pino|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify)/.test(url)) return 'logging (pino)';
  if (url.includes('/node_modules/prom-client/')) return 'metrics (prom-client)';
  if (url.includes('/node_modules/node-jose/')) return 'node-jose';
  if (url.includes('/node_modules/rate-limiter-flexible/')) return 'gateway: http/ (middleware)';
  if (FRAMEWORK.test(url)) return FRAMEWORK_BUCKET;
  if (url.includes('/node_modules/')) return `other library (${url.split('node_modules/').pop()!.split('/')[0]})`;
  const m = /\/(?:dist|src)\/([^/]+)\/?([^/]*)\.[jt]s$/.exec(url);
  if (m) {
    if (m[1] === 'transfer-log' && /jws-es256|receipt|checkpoint/.test(m[2]!)) return 'signatures (ES256: receipts, batch checkpoints)';
    if (m[1] === 'pseudonym') return 'pseudonyms (AES-SIV, HMAC)';
    return `gateway: ${m[2] ? `${m[1]}/` : m[1]}`;
  }
  if (fn === '(garbage collector)') return 'garbage collection';
  return null;
}

export function summarize(p: Profile, fromSeconds = 0): { busyMs: number; buckets: Array<[string, number]> } {
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const bucketOf = new Map<number, string>();
  const classify = (id: number): string => {
    let b = bucketOf.get(id);
    if (b) return b;
    const leaf = nodes.get(id)!.callFrame;
    const nodeLeaf = leaf.url.startsWith('node:') || leaf.url === '';
    for (let x: number | undefined = id; x !== undefined && !b; x = parent.get(x)) {
      const cf = nodes.get(x)!.callFrame;
      b = owner(cf.url, cf.functionName) ?? undefined;
    }
    // Node's socket and TLS work under express (res.json writing the answer) is the listener's.
    if (b === FRAMEWORK_BUCKET && nodeLeaf) b = LISTENER;
    b ??= nodeLeaf ? LISTENER : 'other';
    bucketOf.set(id, b);
    return b;
  };
  const totals = new Map<string, number>();
  let t = p.startTime;
  let busy = 0;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i]!;
    const fn = nodes.get(id)!.callFrame.functionName;
    if (t - p.startTime < fromSeconds * 1e6 || fn === '(idle)') return;
    const b = fn === '(program)' ? LISTENER : classify(id);
    totals.set(b, (totals.get(b) ?? 0) + p.timeDeltas[i]!);
    busy += p.timeDeltas[i]!;
  });
  return { busyMs: busy / 1000, buckets: [...totals].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / busy]) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) throw new Error('usage: bench/profile-summary.ts PROFILE.cpuprofile [--from SECONDS] [--requests N]');
  const opt = (name: string) => { const i = rest.indexOf(name); return i >= 0 ? Number(rest[i + 1]) : undefined; };
  const requests = opt('--requests');
  const { busyMs, buckets } = summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, opt('--from') ?? 0);
  console.log(`busy CPU ${busyMs.toFixed(0)} ms${requests ? ` over ${requests} requests = ${(busyMs * 1000 / requests).toFixed(0)} us a request` : ''}`);
  for (const [name, share] of buckets) {
    if (share < 0.003) continue;
    console.log(`${(share * 100).toFixed(1).padStart(5)} %  ${requests ? `${(share * busyMs * 1000 / requests).toFixed(0).padStart(5)} us  ` : ''}${name}`);
  }
}
