// Redis keys of the transfer log. One hash tag, so every key of an append lands in one cluster
// slot and the append script may touch them all atomically.
export interface LogKeys {
  /** The entries of every chain, interleaved (stream). */
  entries: string;
  /** chain -> "seq:hash" of its last appended entry (hash), updated with each append. */
  heads: string;
  /** Signed checkpoints, periodic and trim (stream). */
  checkpoints: string;
  /** Signed chain registry statements (stream), issue [3/6] item 2. */
  registry: string;
  /** Anchor lines owed to the HTTPS witness (list, oldest first). */
  witness: string;
  /** Index streams: same ids as `entries`, one stream per subjectRef / partner. */
  bySubject(subjectRef: string): string;
  byPartner(partnerId: string): string;
  /** DSAR recipients of one subject (hash), kept at append time. */
  recipients(subjectRef: string): string;
  /** Lock so that only one instance runs the retention job at a time. */
  trimLock: string;
}

export function logKeys(prefix = 'tlog'): LogKeys {
  const p = `{${prefix}}`;
  return {
    entries: `${p}:entries`,
    heads: `${p}:heads`,
    checkpoints: `${p}:checkpoints`,
    registry: `${p}:registry`,
    witness: `${p}:witness`,
    bySubject: (ref) => `${p}:ix:s:${ref}`,
    byPartner: (id) => `${p}:ix:p:${id}`,
    recipients: (ref) => `${p}:rcpt:${ref}`,
    trimLock: `${p}:trim-lock`,
  };
}
