// Redis keys of the transfer log (issue [6/6] item 2: the log shards by chain). Each chain has a
// hash tag of its own, `{tlog:<chain>}`, so chains spread over cluster slots while one append
// (entries, head, checkpoint, subject index, recipients of that chain) stays a single-slot script.
// A small global part under `{tlog}` lets every reader find every chain: the set of chain ids
// (written once per chain, off the per-entry path), the chain registry, the witness queue and the
// retention lock. There is no installed base with the old single-tag layout to migrate (the
// product has not shipped it); `log verify` checks what this layout writes.
export interface ChainKeys {
  chain: string;
  /** The chain's entries, in seq order (stream). */
  entries: string;
  /** "seq:hash" of the chain's last appended entry (string), moved with each batch; "…:end" once closed. */
  head: string;
  /** The chain's signed checkpoints: batch, trim and end (stream). */
  checkpoints: string;
  /**
   * The stream ids of one subject's entries on this chain, oldest first (list). A list, not a
   * stream: Redis preallocates 4 KB for a new stream's first node, and there is one of these per
   * subject a chain logs (a list of one id is about 200 bytes; issue 17 item 3).
   */
  bySubject(subjectRef: string): string;
  /** DSAR recipients of one subject from this chain's releases (hash); readers merge the chains. */
  recipients(subjectRef: string): string;
}

export interface LogKeys {
  /** Every chain id ever written (set), added once when a chain starts. */
  chains: string;
  /** Signed chain registry statements (stream), issue [3/6] item 2. */
  registry: string;
  /** Anchor lines owed to the HTTPS witness (list, oldest first). */
  witness: string;
  /** Lock so that only one instance runs the retention job at a time. */
  trimLock: string;
  chain(chain: string): ChainKeys;
  /** The pattern of every recipients key of one chain (SCAN MATCH), and where the subjectRef starts. */
  recipientsPrefix(chain: string): string;
}

export function logKeys(prefix = 'tlog'): LogKeys {
  const g = `{${prefix}}`;
  const tag = (chain: string) => `{${prefix}:${chain}}`;
  return {
    chains: `${g}:chains`,
    registry: `${g}:registry`,
    witness: `${g}:witness`,
    trimLock: `${g}:trim-lock`,
    chain: (chain) => {
      const p = tag(chain);
      return {
        chain,
        entries: `${p}:entries`,
        head: `${p}:head`,
        checkpoints: `${p}:checkpoints`,
        bySubject: (ref) => `${p}:ix:subject:${ref}`,
        recipients: (ref) => `${p}:rcpt:${ref}`,
      };
    },
    recipientsPrefix: (chain) => `${tag(chain)}:rcpt:`,
  };
}

/** A chain's head value: seq, hash, and whether an end statement closed it (seam.ts). */
export function parseHead(v: string | null | undefined): { seq: number; hash: string; ended: boolean } | null {
  if (!v) return null;
  const [seq, hash, end] = v.split(':');
  return { seq: Number(seq), hash: hash ?? '', ended: end === 'end' };
}
