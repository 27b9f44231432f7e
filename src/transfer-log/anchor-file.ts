// The anchor sink outside Redis (issue [3/6] item 3, DESIGN 10): every signed statement (batch and
// trim checkpoints, chain registry statements) is also appended to a local file opened O_APPEND
// and fdatasync'ed before the append that made it resolves, so whoever rewrites Redis still meets
// the file. One JSON line per statement: {"sink","stream","id","jws"}. The first line names the
// sink ({"sink": id, "created"}); statements carry that id, so `verify --anchors` knows which
// statements this file must hold (each instance may anchor to its own file).
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, readSync, write, writeSync, constants } from 'node:fs';
import { promisify } from 'node:util';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AnchorLine {
  /** `checkpoints` or `registry`: which Redis stream holds the statement. */
  stream: 'checkpoints' | 'registry';
  /** Its Redis stream id. */
  id: string;
  jws: string;
}

/** What the transfer log writer asks of an anchor sink. */
export interface AnchorSink {
  /** The sink's id, named in each statement it anchors (opens the sink on first use). */
  sinkId(): string;
  /** Durable in the sink when it resolves; throws when the sink cannot be written. */
  append(lines: AnchorLine[]): Promise<void>;
  close(): void;
}

/** The sink line only (the file grows with the log: never read it whole here). */
function firstLine(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8').split('\n', 1)[0] ?? '';
  } finally {
    closeSync(fd);
  }
}

const writeAsync = promisify(write) as (fd: number, b: Buffer) => Promise<{ bytesWritten: number }>;
const fdatasyncAsync = promisify(fdatasync);

export class AnchorFile implements AnchorSink {
  private fd: number | null = null;
  private id = '';
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  // Opened lazily and again after a failure: a sink that cannot be written fails the append
  // (503 audit_unavailable), it does not stop the gateway from starting or recovering.
  private open(): number {
    if (this.fd !== null) return this.fd;
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    try {
      let first = firstLine(this.path);
      if (!first) {
        writeSync(fd, `${JSON.stringify({ sink: randomBytes(9).toString('base64url'), created: new Date().toISOString() })}\n`);
        fdatasyncSync(fd);
        // Another instance may have written its header first: the first line wins.
        first = firstLine(this.path);
      }
      const sink = (JSON.parse(first) as { sink?: unknown }).sink;
      if (typeof sink !== 'string' || !sink) throw new Error('the anchors file does not start with a sink line');
      this.id = sink;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.fd = fd;
    return fd;
  }

  sinkId(): string {
    this.open();
    return this.id;
  }

  append(lines: AnchorLine[]): Promise<void> {
    const run = async () => {
      try {
        const fd = this.open();
        // One write of whole lines (O_APPEND: concurrent writers never interleave within it); the
        // write and the sync run on libuv's pool, so the event loop goes on serving meanwhile.
        const buf = Buffer.from(lines.map((l) => `${JSON.stringify({ sink: this.id, ...l })}\n`).join(''));
        const { bytesWritten } = await writeAsync(fd, buf);
        if (bytesWritten !== buf.length) throw new Error('short write to the anchors file');
        await fdatasyncAsync(fd);
      } catch (e) {
        this.close();
        throw e;
      }
    };
    const p = this.tail.then(run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export interface AnchorFileContents {
  sink: string | null;
  lines: Array<AnchorLine & { line: number }>;
  /** Lines that are not anchor lines (line numbers, 1-based). */
  malformed: number[];
}

export function parseAnchorFile(text: string): AnchorFileContents {
  const out: AnchorFileContents = { sink: null, lines: [], malformed: [] };
  text.split('\n').forEach((raw, i) => {
    if (!raw) return;
    try {
      const l = JSON.parse(raw) as Partial<AnchorLine> & { sink?: string; created?: string };
      if (i === 0 && l.created && typeof l.sink === 'string') { out.sink = l.sink; return; }
      if ((l.stream === 'checkpoints' || l.stream === 'registry') && typeof l.id === 'string' && typeof l.jws === 'string' && l.sink === out.sink) {
        out.lines.push({ stream: l.stream, id: l.id, jws: l.jws, line: i + 1 });
        return;
      }
    } catch { /* reported below */ }
    out.malformed.push(i + 1);
  });
  return out;
}
