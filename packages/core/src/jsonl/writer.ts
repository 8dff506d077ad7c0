import { type FileHandle, open, stat, truncate } from "node:fs/promises";
import { RecordError } from "./errors.js";
import { readJsonl } from "./reader.js";

/** Options of the append-only writer. */
export interface WriterOptions<T> {
  /** The id of a record; defaults to its `id` field. */
  key?: (record: T) => string;
  /** Records buffered before a write + fsync (default 64). */
  batchSize?: number;
  /** Longest time a record waits in the buffer, in ms (default 1000). */
  flushMs?: number;
}

/**
 * An append-only JSONL writer for long jobs. Records are written and fsynced in batches. On open it
 * reads what the file already holds (dropping a torn last line left by a crash) and remembers the
 * ids, so a resumed job skips what is done: no duplicates, nothing lost.
 */
export class JsonlWriter<T> {
  private readonly held = new Set<string>();
  private buffer: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    private readonly key: (record: T) => string,
    private readonly batchSize: number,
    private readonly flushMs: number,
  ) {}

  /** Opens (or creates) `file` for appending and loads the ids it already holds. */
  static async open<T>(file: string, options: WriterOptions<T> = {}): Promise<JsonlWriter<T>> {
    const key = options.key ?? idOf;
    await dropTornTail(file);
    const ids: string[] = [];
    try {
      const reader = readJsonl<T>(file);
      for await (const rec of reader) {
        let id: string;
        try {
          id = key(rec);
        } catch (err) {
          throw new RecordError(file, reader.lineOf(rec) ?? 0, (err as Error).message, "id");
        }
        ids.push(id);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const handle = await open(file, "a");
    const writer = new JsonlWriter<T>(file, handle, key, options.batchSize ?? 64, options.flushMs ?? 1000);
    for (const id of ids) writer.held.add(id);
    return writer;
  }

  /** Whether a record with this id is written or buffered. */
  has(id: string): boolean {
    return this.held.has(id);
  }

  /** The ids written or buffered so far. */
  get ids(): ReadonlySet<string> {
    return this.held;
  }

  /** How many records the file holds (written or buffered). */
  get size(): number {
    return this.held.size;
  }

  /** Buffers a record (skipped if its id is held already); returns true if it was added. */
  async append(record: T): Promise<boolean> {
    if (this.closed) throw new Error(`${this.file}: writer is closed`);
    let id: string;
    try {
      id = this.key(record);
    } catch (err) {
      throw new Error(`${this.file}: cannot append a record: ${(err as Error).message}`);
    }
    if (this.held.has(id)) return false;
    this.held.add(id);
    this.buffer.push(`${JSON.stringify(record)}\n`);
    if (this.buffer.length >= this.batchSize) await this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush().catch(() => {}), this.flushMs);
      this.timer.unref();
    }
    return true;
  }

  /** Writes and fsyncs everything buffered. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const lines = this.buffer;
    this.buffer = [];
    if (lines.length === 0) return this.chain;
    this.chain = this.chain.then(async () => {
      await this.handle.write(lines.join(""));
      await this.handle.sync();
    });
    return this.chain;
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.handle.close();
  }
}

/**
 * The default key: the record's `id` field. A record without one is an error (not the key "undefined",
 * which would merge every id-less record into one and lose all but the first).
 */
function idOf<T>(record: T): string {
  const id = (record as { id?: unknown } | null)?.id;
  if (id === undefined || id === null) throw new Error('field "id" is missing');
  return String(id);
}

/** Cuts a last line that has no newline (a write torn by a crash). */
async function dropTornTail(file: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    return;
  }
  if (size === 0) return;
  const fh = await open(file, "r");
  try {
    const chunk = 1 << 16;
    let end = size;
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, size - 1);
    if (last[0] === 0x0a) return;
    while (end > 0) {
      const start = Math.max(0, end - chunk);
      const buf = Buffer.alloc(end - start);
      await fh.read(buf, 0, buf.length, start);
      const nl = buf.lastIndexOf(0x0a);
      if (nl >= 0) {
        await truncate(file, start + nl + 1);
        return;
      }
      end = start;
    }
    await truncate(file, 0);
  } finally {
    await fh.close();
  }
}
