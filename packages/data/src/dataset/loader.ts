import { RecordError, Rng, type Sample, type SkippedLine } from "@sr2se/core";
import {
  DEFAULT_NORMALIZE,
  type Fit,
  ImageError,
  type ImageOptions,
  loadImageRgb,
  type Normalize,
  rgbToChw,
} from "../image/load.js";
import type { Dataset, DatasetRecord } from "./read.js";

/** Options of the batch loader. */
export interface DataLoaderOptions {
  batchSize: number;
  /** Side of the model's square input, in pixels. */
  size: number;
  fit?: Fit;
  normalize?: Normalize;
  /** Images decoding at once (default 4). */
  concurrency?: number;
  /** Batches prepared ahead of the consumer (default 2). */
  prefetch?: number;
  /** Shuffle each epoch with `seed` (default false). */
  shuffle?: boolean;
  seed?: number | string;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  maxPixels?: number;
  /** Skip images that fail to load, listing them in `skipped`, instead of throwing (default false). */
  lenient?: boolean;
  /** Decodes one image to size×size RGB bytes (default `loadImageRgb`); a hook for augmentation or caching. */
  decode?: (path: string, options: ImageOptions) => Promise<Uint8Array>;
}

/** A batch ready for a model: pixels are CHW per image, normalized, shape [B, 3, H, W]. */
export interface Batch {
  samples: Sample[];
  pixels: Float32Array;
  shape: [number, number, number, number];
}

/** A counting semaphore: at most `n` callers between acquire and release. */
class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/**
 * Iterates a dataset in batches, decoding images with bounded concurrency and `prefetch` batches
 * ahead, so decoding overlaps the consumer's work (training). Errors name the file and line.
 */
export class DataLoader implements AsyncIterable<Batch> {
  readonly records: DatasetRecord[];
  /** Records whose image failed to load in lenient mode, with the reason. */
  readonly skipped: SkippedLine[] = [];
  private readonly file: string;
  private readonly options: Required<Omit<DataLoaderOptions, "seed">> & { seed: number | string };
  private epoch = 0;

  constructor(dataset: Dataset, options: DataLoaderOptions) {
    if (!(Number.isInteger(options.batchSize) && options.batchSize > 0))
      throw new RangeError(`DataLoader: batchSize must be a positive integer, got ${options.batchSize}`);
    this.records = dataset.records;
    this.file = dataset.file;
    this.options = {
      fit: "letterbox",
      normalize: DEFAULT_NORMALIZE,
      concurrency: 4,
      prefetch: 2,
      shuffle: false,
      seed: 0,
      dropLast: false,
      maxPixels: 40_000_000,
      lenient: false,
      decode: loadImageRgb,
      ...options,
    };
  }

  /** Number of batches an epoch yields (before lenient skips). */
  get length(): number {
    const n = this.records.length / this.options.batchSize;
    return this.options.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The batches of the next epoch (a new shuffle each epoch when shuffling). */
  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.iterate(this.epoch++);
  }

  /** The batches of epoch `epoch`. */
  async *iterate(epoch = 0): AsyncGenerator<Batch> {
    const o = this.options;
    const order = this.records.map((_, i) => i);
    if (o.shuffle) new Rng(o.seed).fork(`epoch/${epoch}`).shuffle(order);
    const batches: number[][] = [];
    for (let i = 0; i < order.length; i += o.batchSize) {
      const b = order.slice(i, i + o.batchSize);
      if (b.length < o.batchSize && o.dropLast) break;
      batches.push(b);
    }
    const sem = new Semaphore(Math.max(1, o.concurrency));
    const pending: Promise<Batch | null>[] = [];
    let next = 0;
    const schedule = () => {
      while (next < batches.length && pending.length < Math.max(1, o.prefetch)) {
        const p = this.load(batches[next++], sem);
        // Marked handled now: a batch may fail before the consumer awaits it (or after it stopped);
        // the consumer still gets the error when it reaches that batch.
        p.catch(() => {});
        pending.push(p);
      }
    };
    schedule();
    try {
      while (pending.length > 0) {
        const p = pending.shift() as Promise<Batch | null>;
        // Keep the pipeline full while the consumer works on this batch.
        schedule();
        const batch = await p;
        if (batch) yield batch;
      }
    } finally {
      pending.length = 0;
    }
  }

  private async load(indices: number[], sem: Semaphore): Promise<Batch | null> {
    const o = this.options;
    const images = await Promise.all(
      indices.map((i) =>
        sem.run(async () => {
          const rec = this.records[i];
          try {
            return await o.decode(rec.imagePath, { size: o.size, fit: o.fit, maxPixels: o.maxPixels });
          } catch (err) {
            if (!(err instanceof ImageError)) throw err;
            const detail = err.message.replace(rec.imagePath, rec.sample.image);
            if (!o.lenient) throw new RecordError(this.file, rec.line, detail, "image");
            this.skipped.push({
              file: this.file,
              line: rec.line,
              message: `${this.file}:${rec.line}: ${detail}`,
            });
            return null;
          }
        }),
      ),
    );
    const kept = indices.filter((_, k) => images[k] !== null);
    if (kept.length === 0) return null;
    const plane = 3 * o.size * o.size;
    const pixels = new Float32Array(kept.length * plane);
    let b = 0;
    for (const img of images) if (img) rgbToChw(img, o.size, o.normalize, pixels, plane * b++);
    return {
      samples: kept.map((i) => this.records[i].sample),
      pixels,
      shape: [kept.length, 3, o.size, o.size],
    };
  }
}
