// Checks the log against an anchors file (issue [3/6] item 3): the file is outside Redis, so a
// Redis operator who deletes or rewinds statements (and the entries under them) meets lines that
// name what is gone, and a line deleted from the file meets the statement still in Redis (or the
// broken links of the file's own batch checkpoints).
import { readFileSync } from 'node:fs';
import type { Redis } from '../deps.ts';
import type { Checkpoint } from './checkpoint.ts';
import type { BrokenAt, CheckpointIndex } from './chain-verifier.ts';
import { GENESIS } from './entry.ts';
import type { Jwks } from './jwks.ts';
import type { LogKeys } from './keys.ts';
import { parseAnchorFile, type AnchorFileContents } from './anchor-file.ts';
import { parseRegistry, type RegistryStatement } from './registry.ts';
import { jwsVerifier, statementHash } from './statement-signer.ts';
import { compareStreamIds } from '../redis/stream-id.ts';

export interface AnchorSummary {
  /** Anchor lines in the file (statements). */
  lines: number;
  /** Statements of this file's sink just stored in Redis whose line may still be on its way. */
  pending: number;
}

/** null when the file does not exist. */
export function readAnchors(path: string): AnchorFileContents | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return parseAnchorFile(text);
}

const idLess = (a: string, b: string) => compareStreamIds(a, b) < 0;

export async function checkAnchors(redis: Redis, keys: LogKeys, file: AnchorFileContents | null, cps: CheckpointIndex, jwks: Jwks,
  graceFromMs: number): Promise<{ summary: AnchorSummary; brokenAt?: BrokenAt }> {
  const none = { streamId: null, id: null };
  const summary: AnchorSummary = { lines: file?.lines.length ?? 0, pending: 0 };
  // Emptied or deleted: it can name nothing, so every statement in Redis goes unchecked.
  if (!file || file.sink === null) {
    return cps.statements.size === 0 && !file?.malformed.length ? { summary }
      : { summary, brokenAt: { ...none, chain: null, seq: null, reason: 'anchor_missing', detail: 'the anchors file is missing or has lost its sink line, and redis holds signed statements' } };
  }
  const broken = (b: Omit<BrokenAt, 'streamId' | 'id'>) => ({ summary, brokenAt: { ...none, ...b } });
  if (file.malformed.length) return broken({ chain: null, seq: null, reason: 'anchor_invalid', detail: `anchors file line ${file.malformed[0]} is not an anchor line`, anchorLine: file.malformed[0]! });
  const check = jwsVerifier(jwks.keys);
  const anchored = new Set<string>();
  const links = new Map<string, { seq: number; hash: string }>();
  // Per stream: the registry, and each chain's checkpoints (issue [6/6] item 2: one stream a chain).
  const lastAnchoredId = new Map<string, string>();
  const streamOf = (stream: 'checkpoints' | 'registry', chain: string | null) => (stream === 'registry' ? 'registry' : `checkpoints:${chain}`);
  let firstRegistry: string | null = null;
  for (const st of cps.statements.values()) if (st.stream === 'registry' && (!firstRegistry || idLess(st.id, firstRegistry))) firstRegistry = st.id;
  for (const l of file.lines) {
    const payload = check(l.jws) as (Checkpoint & { typ: string }) | null;
    if (!payload || (l.stream === 'registry' ? !parseRegistry(payload) : payload.typ !== 'tlog-checkpoint')) {
      return broken({ chain: null, seq: null, reason: 'anchor_invalid', detail: `anchors file line ${l.line}: signature invalid or payload malformed`, anchorLine: l.line });
    }
    const hash = statementHash(l.jws);
    anchored.add(hash);
    const sk = streamOf(l.stream, l.stream === 'checkpoints' ? payload.chain : null);
    if (idLess(lastAnchoredId.get(sk) ?? '0-0', l.id)) lastAnchoredId.set(sk, l.id);
    if (l.stream === 'checkpoints' && payload.kind === 'batch') {
      // One writer per chain, lines in order: a gap in the file's own links is a deleted line.
      const prev = links.get(payload.chain);
      const want = prev ? { first: prev.seq + 1, prev: prev.hash } : { first: 1, prev: GENESIS };
      if (payload.first !== want.first || payload.prev !== want.prev) {
        return broken({ chain: payload.chain, seq: want.first, reason: 'anchor_missing', detail: `the anchors file lacks the checkpoint of chain ${payload.chain} from seq ${want.first} (line deleted)`, anchorLine: l.line });
      }
      links.set(payload.chain, { seq: payload.seq, hash });
    }
    // Every anchored statement must be in Redis, unless retention trimmed what it covers.
    if (cps.statements.has(hash)) continue;
    if (l.stream === 'checkpoints' && payload.seq <= cps.trimmedBelow(payload.chain, Infinity)) continue;
    if (l.stream === 'registry' && cps.hasTrims() && firstRegistry && idLess(l.id, firstRegistry)) continue; // trimmed
    // Issue [6/6] item 4: lost with a chain's tail in a failover, and explained by its end statement (seam.ts).
    if (l.stream === 'checkpoints' && lostInSeam(cps, payload.chain, payload.seq)) continue;
    if (l.stream === 'registry' && cps.ends.size > 0 && registryLostInSeam(cps, parseRegistry(payload)!)) continue;
    // Stored after the scan read that stream? Then it is there now.
    const now = ((await redis.xRange(l.stream === 'registry' ? keys.registry : keys.chain(payload.chain).checkpoints, l.id, l.id)) ?? []);
    if ((now[0]?.message as Record<string, string> | undefined)?.jws === l.jws) continue;
    const chain = l.stream === 'checkpoints' ? payload.chain : null;
    const seq = l.stream === 'checkpoints' ? payload.seq : (payload as unknown as { n: number }).n;
    const what = l.stream === 'checkpoints' ? `the signed checkpoint of chain ${chain} at seq ${seq}` : `chain registry statement ${seq}`;
    return broken({ chain, seq, reason: 'missing', detail: `${what} (anchors file line ${l.line}) is gone from redis (deleted, truncated or replaced)`, anchorLine: l.line });
  }
  // Every statement this sink anchored must have its line; only the newest may still be on its way.
  for (const [hash, st] of cps.statements) {
    if (st.sink !== file.sink || anchored.has(hash)) continue;
    if (idLess(lastAnchoredId.get(streamOf(st.stream, st.chain)) ?? '0-0', st.id) && Number(st.id.split('-')[0]) >= graceFromMs) { summary.pending++; continue; }
    const what = st.stream === 'checkpoints' ? `the signed checkpoint of chain ${st.chain} at seq ${st.seq}` : `chain registry statement ${st.seq}`;
    return broken({ chain: st.chain, seq: st.seq, reason: 'anchor_missing', detail: `${what} (stream id ${st.id}) has no line in the anchors file`, checkpoint: st.id });
  }
  return { summary };
}

/** A seq past where its chain's end statement closed it, but no further than the writer had sent. */
function lostInSeam(cps: CheckpointIndex, chain: string, seq: number): boolean {
  const end = cps.ends.get(chain);
  return end !== undefined && seq > end.seq && seq <= end.sent!;
}

/**
 * A registry statement gone from Redis in a failover (the registry's own tail was not replicated):
 * explained only if each chain position it names is either still in Redis, signed and verified,
 * or lost in an explained seam. Anything else it names that is gone is reported as missing.
 */
function registryLostInSeam(cps: CheckpointIndex, st: RegistryStatement): boolean {
  return Object.entries(st.chains).every(([chain, c]) =>
    cps.hashAt(chain, c.seq) === c.hash || cps.trimmedBelow(chain, Infinity) >= c.seq || lostInSeam(cps, chain, c.seq));
}
