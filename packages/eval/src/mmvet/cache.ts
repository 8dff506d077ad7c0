import { createHash } from "node:crypto";
import { appendFile, mkdir, open, stat, truncate } from "node:fs/promises";
import { dirname } from "node:path";
import { readJsonl } from "@sr2se/core";
import type { JudgeReply, JudgeRequest, MmVetJudge } from "./judge.js";

/** One cached judgment, one JSON line of the cache file. */
export interface CachedJudgment {
  key: string;
  model: string;
  run: number;
  temperature: number;
  id: string;
  content: string | null;
  replyModel: string;
}

/** The cache key of a judgment: SHA-256 of (model, prompt, temperature, run index). */
export function judgmentKey(model: string, prompt: string, temperature: number, run: number): string {
  return createHash("sha256")
    .update(JSON.stringify([model, prompt, temperature, run]))
    .digest("hex");
}

/**
 * Judgments on disk, one JSON line each, appended as they arrive: a rerun or a resumed crash asks
 * the judge nothing it already answered. A torn last line (a crash mid-write) is dropped on open.
 */
export class JudgmentCache {
  private readonly entries = new Map<string, CachedJudgment>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  /** The cache stored in `file` (created on first write). */
  static async open(file: string): Promise<JudgmentCache> {
    const cache = new JudgmentCache(file);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      return cache;
    }
    // streamed: a cache of many judgments is never held as one string
    const reader = readJsonl<CachedJudgment>(file, { tornLast: "skip" });
    for await (const rec of reader) {
      const line = reader.lineOf(rec);
      if (typeof rec !== "object" || rec === null || typeof rec.key !== "string")
        throw new Error(`${file}:${line}: field "key" is missing`);
      cache.entries.set(rec.key, rec);
    }
    // A crash left half a line: cut it so the next append starts on a fresh line. A whole last
    // line without its newline gets one.
    if (reader.tornLine !== undefined) await truncate(file, reader.completeBytes);
    else if (size > reader.completeBytes) await appendFile(file, "\n");
    return cache;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): CachedJudgment | undefined {
    return this.entries.get(key);
  }

  /** Records a judgment and appends it to the file (writes are serialized, one line a write). */
  async put(entry: CachedJudgment): Promise<void> {
    this.entries.set(entry.key, entry);
    const line = `${JSON.stringify(entry)}\n`;
    const write = this.writes.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      await appendFile(this.file, line, "utf8");
    });
    this.writes = write.catch(() => {});
    await write;
  }

  /** Waits for pending writes and syncs the file to disk. */
  async flush(): Promise<void> {
    await this.writes;
    try {
      const handle = await open(this.file, "r+");
      await handle.sync();
      await handle.close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
}

/** A judge that answers from `cache` when it can and records every new judgment there. */
export class CachedJudge implements MmVetJudge {
  readonly model: string;
  readonly official: boolean;
  /** Requests that reached the wrapped judge (not answered from the cache). */
  misses = 0;
  hits = 0;
  private readonly inFlight = new Map<string, Promise<JudgeReply>>();

  constructor(
    readonly inner: MmVetJudge,
    readonly cache: JudgmentCache,
  ) {
    this.model = inner.model;
    this.official = inner.official;
  }

  async judge(request: JudgeRequest): Promise<JudgeReply> {
    const key = judgmentKey(this.model, request.prompt, request.temperature, request.run);
    const cached = this.cache.get(key);
    if (cached) {
      this.hits++;
      return { content: cached.content, model: cached.replyModel };
    }
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const ask = (async () => {
      this.misses++;
      const reply = await this.inner.judge(request);
      await this.cache.put({
        key,
        model: this.model,
        run: request.run,
        temperature: request.temperature,
        id: request.sample.id,
        content: reply.content,
        replyModel: reply.model,
      });
      return reply;
    })();
    this.inFlight.set(key, ask);
    try {
      return await ask;
    } finally {
      this.inFlight.delete(key);
    }
  }
}
