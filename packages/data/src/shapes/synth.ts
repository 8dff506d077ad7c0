import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { JsonlWriter, Rng, writeFileAtomic } from "@sr2se/core";
import { mapLimit } from "../dataset/read.js";
import { resolveWorldConfig, type WorldConfig, type WorldConfigInput } from "./config.js";
import { renderScenePng } from "./render.js";
import { generateSample, type ShapesSample } from "./sample.js";
import { textVocabulary } from "./vocabulary-stats.js";

/** The splits `synthesize` writes, in order. */
export const SPLITS = ["train", "val", "test"] as const;
export type Split = (typeof SPLITS)[number];

/** Options of `synthesize`. */
export interface SynthOptions {
  out: string;
  counts: Partial<Record<Split, number>>;
  seed: number | string;
  config?: WorldConfigInput;
  /** Called after each chunk with samples done (resumed ones included) and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Image files written at once (default 32). */
  concurrency?: number;
}

/** manifest.json of a generated dataset: enough to regenerate it and to verify it. */
export interface Manifest {
  format: "sr2se-shapes";
  version: 1;
  complete: boolean;
  seed: number | string;
  counts: Record<Split, number>;
  config: WorldConfig;
  /** Distinct words of all questions, responses and dialogues. */
  vocabulary_size?: number;
  files?: Record<string, { records: number; sha256: string }>;
  images?: { count: number; sha256: string };
}

const CHUNK = 64;

/** SHA-256 of a file's bytes, in hex, read as a stream (a split of any size). */
async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Writes a shapes-world dataset to `out`: images/*.png, train/val/test.jsonl and manifest.json.
 * Every sample comes from its own forked stream, so an interrupted run resumes where it stopped and
 * ends byte-identical to an uninterrupted one. Returns the final manifest.
 */
export async function synthesize(options: SynthOptions): Promise<Manifest> {
  const config = resolveWorldConfig(options.config);
  const counts: Record<Split, number> = { train: 0, val: 0, test: 0 };
  for (const s of SPLITS) {
    const n = options.counts[s] ?? 0;
    if (!(Number.isInteger(n) && n >= 0))
      throw new RangeError(`synthesize: count of "${s}" must be an integer ≥ 0, got ${n}`);
    counts[s] = n;
  }
  const out = options.out;
  await mkdir(join(out, "images"), { recursive: true });
  const manifestPath = join(out, "manifest.json");
  const manifest: Manifest = {
    format: "sr2se-shapes",
    version: 1,
    complete: false,
    seed: options.seed,
    counts,
    config,
  };
  const previous = await readFile(manifestPath, "utf8").then(
    (t) => JSON.parse(t) as Manifest,
    () => null,
  );
  if (previous) {
    const same =
      JSON.stringify(previous.seed) === JSON.stringify(manifest.seed) &&
      JSON.stringify(previous.config) === JSON.stringify(config) &&
      JSON.stringify(previous.counts) === JSON.stringify(counts);
    if (!same)
      throw new Error(
        `${manifestPath}: the folder holds a dataset of another seed, config or counts; choose a new --out`,
      );
    if (previous.complete) return previous;
  }
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

  const root = new Rng(options.seed);
  const total = SPLITS.reduce((s, k) => s + counts[k], 0);
  let done = 0;
  const words = new Set<string>();
  for (const split of SPLITS) {
    const writer = await JsonlWriter.open<ShapesSample>(join(out, `${split}.jsonl`), { batchSize: 256 });
    try {
      for (let start = 0; start < counts[split]; start += CHUNK) {
        const end = Math.min(counts[split], start + CHUNK);
        const chunk: ShapesSample[] = [];
        const images: { path: string; png: Uint8Array }[] = [];
        for (let i = start; i < end; i++) {
          const { sample, scene } = generateSample(root, split, i, config);
          textVocabulary(sample, words);
          if (writer.has(sample.id)) continue;
          chunk.push(sample);
          images.push({
            path: join(out, sample.image),
            png: renderScenePng(scene, config.size, config.clutter.noise),
          });
        }
        // Images land before their records, so a record on disk always has its image.
        await mapLimit(images, options.concurrency ?? 32, (im) => writeFile(im.path, im.png));
        for (const s of chunk) await writer.append(s);
        done += end - start;
        options.onProgress?.(done, total);
      }
    } finally {
      await writer.close();
    }
  }

  manifest.vocabulary_size = words.size;
  manifest.files = {};
  const imageSums: string[] = [];
  for (const split of SPLITS) {
    manifest.files[`${split}.jsonl`] = {
      records: counts[split],
      sha256: await sha256OfFile(join(out, `${split}.jsonl`)),
    };
    const names = Array.from(
      { length: counts[split] },
      (_, i) => `images/${split}-${String(i).padStart(6, "0")}.png`,
    );
    const sums = await mapLimit(names, 32, async (n) => `${sha256(await readFile(join(out, n)))}  ${n}\n`);
    imageSums.push(...sums);
  }
  manifest.images = { count: imageSums.length, sha256: sha256(imageSums.join("")) };
  manifest.complete = true;
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
