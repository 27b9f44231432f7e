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
import { parseRegistry } from './registry.ts';
import { jwsVerifier, statementHash } from './statement-signer.ts';

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

const idLess = (a: string, b: string) => {
  const [x, y] = [a.split('-').map(BigInt), b.split('-').map(BigInt)];
  return x[0]! < y[0]! || (x[0] === y[0] && x[1]! < y[1]!);
};

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
  const lastAnchoredId = { checkpoints: '0-0', registry: '0-0' };
  let firstRegistry: string | null = null;
  for (const st of cps.statements.values()) if (st.stream === 'registry' && (!firstRegistry || idLess(st.id, firstRegistry))) firstRegistry = st.id;
  for (const l of file.lines) {
    const payload = check(l.jws) as (Checkpoint & { typ: string }) | null;
    if (!payload || (l.stream === 'registry' ? !parseRegistry(payload) : payload.typ !== 'tlog-checkpoint')) {
      return broken({ chain: null, seq: null, reason: 'anchor_invalid', detail: `anchors file line ${l.line}: signature invalid or payload malformed`, anchorLine: l.line });
    }
    const hash = statementHash(l.jws);
    anchored.add(hash);
    if (idLess(lastAnchoredId[l.stream], l.id)) lastAnchoredId[l.stream] = l.id;
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
    // Stored after the scan read that stream? Then it is there now.
    const now = ((await redis.xRange(l.stream === 'registry' ? keys.registry : keys.checkpoints, l.id, l.id)) ?? []);
    if ((now[0]?.message as Record<string, string> | undefined)?.jws === l.jws) continue;
    const chain = l.stream === 'checkpoints' ? payload.chain : null;
    const seq = l.stream === 'checkpoints' ? payload.seq : (payload as unknown as { n: number }).n;
    const what = l.stream === 'checkpoints' ? `the signed checkpoint of chain ${chain} at seq ${seq}` : `chain registry statement ${seq}`;
    return broken({ chain, seq, reason: 'missing', detail: `${what} (anchors file line ${l.line}) is gone from redis (deleted, truncated or replaced)`, anchorLine: l.line });
  }
  // Every statement this sink anchored must have its line; only the newest may still be on its way.
  for (const [hash, st] of cps.statements) {
    if (st.sink !== file.sink || anchored.has(hash)) continue;
    if (idLess(lastAnchoredId[st.stream], st.id) && Number(st.id.split('-')[0]) >= graceFromMs) { summary.pending++; continue; }
    const what = st.stream === 'checkpoints' ? `the signed checkpoint of chain ${st.chain} at seq ${st.seq}` : `chain registry statement ${st.seq}`;
    return broken({ chain: st.chain, seq: st.seq, reason: 'anchor_missing', detail: `${what} (stream id ${st.id}) has no line in the anchors file`, checkpoint: st.id });
  }
  return { summary };
}
