import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Rng, writeFileAtomic } from "@sr2se/core";
import { mapLimit } from "../dataset/read.js";
import { type Family, resolveWorldConfig, type WorldConfigInput } from "../shapes/config.js";
import { describeScene } from "../shapes/describe.js";
import { makeQuestion, type Question, type Solution } from "../shapes/questions.js";
import { renderScenePng } from "../shapes/render.js";
import { type Scene, sampleScene } from "../shapes/scene.js";
import { category } from "../shapes/vocabulary.js";
import { type MathVistaProblem, toMathVista } from "./mathvista.js";
import { type MmmuProblem, toMmmu } from "./mmmu.js";
import { type MmVetProblem, mmvetProblem } from "./mmvet.js";
import { POPE_SPLITS, type PopeImage, popeQuestions, popeStatistics } from "./pope.js";

/** How many images each benchmark-format set is built from. */
export interface BenchCounts {
  /** POPE images; each gives 3 yes and 3 no questions per split. */
  pope: number;
  mmmu: number;
  mathvista: number;
  mmvet: number;
}

export const DEFAULT_BENCH_COUNTS: BenchCounts = { pope: 100, mmmu: 120, mathvista: 120, mmvet: 60 };

/** Options of `buildBenchmarks`. */
export interface BenchOptions {
  out: string;
  seed: number | string;
  config?: WorldConfigInput;
  counts?: Partial<BenchCounts>;
}

/** What `buildBenchmarks` wrote: file name → record count and sha256. */
export interface BenchManifest {
  format: "sr2se-shapes-bench";
  version: 1;
  seed: number | string;
  counts: BenchCounts;
  files: Record<string, { records: number; sha256: string }>;
}

const MMMU_FAMILIES: Family[] = ["existence", "count", "arithmetic", "attribute", "position", "spatial"];
const MATHVISTA_FAMILIES: Family[] = ["count", "arithmetic"];

function jsonl(records: readonly unknown[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join("");
}

/**
 * Builds the benchmark-format sets from held-out scenes (streams forked under "bench", apart from
 * every training split): POPE's three splits, MMMU-, MathVista- and MM-Vet-style files, the images
 * and `scenes.jsonl` (every image's objects and description, for hallucination metrics).
 */
export async function buildBenchmarks(options: BenchOptions): Promise<BenchManifest> {
  const config = resolveWorldConfig(options.config);
  const counts: BenchCounts = { ...DEFAULT_BENCH_COUNTS, ...options.counts };
  const root = new Rng(options.seed).fork("bench");
  const out = options.out;
  await mkdir(join(out, "images"), { recursive: true });
  const files: Record<string, string> = {};
  const scenes: { image: string; objects: Scene["objects"]; description: string }[] = [];
  const images: { path: string; scene: Scene }[] = [];
  const addImage = (set: string, i: number, scene: Scene) => {
    const image = `images/${set}-${String(i).padStart(6, "0")}.png`;
    images.push({ path: image, scene });
    scenes.push({ image, objects: scene.objects, description: describeScene(scene.objects) });
    return image;
  };

  // POPE: three distinct objects at least per image, asked in a shuffled order.
  const popeImages: PopeImage[] = [];
  for (let i = 0; i < counts.pope; i++) {
    const rng = root.fork(`pope/${i}`);
    const scene = sampleScene(rng.fork("scene"), config, { minDistinct: 3 });
    const image = addImage("pope", i, scene);
    popeImages.push({ image, objects: rng.fork("order").shuffle([...new Set(scene.objects.map(category))]) });
  }
  const stats = popeStatistics(popeImages);
  for (const split of POPE_SPLITS)
    files[`pope_${split}.jsonl`] = jsonl(
      popeQuestions(popeImages, split, root.fork(`pope-negatives/${split}`), 3, stats),
    );
  files["pope_ground_truth.jsonl"] = jsonl(popeImages);

  const questionFor = (
    set: string,
    i: number,
    family: Family,
  ): { scene: Scene; q: Question; gold: Solution; rng: Rng } => {
    for (let k = 0; ; k++) {
      const rng = root.fork(`${set}/${i}/${k}`);
      const scene = sampleScene(rng.fork("scene"), config);
      const q = makeQuestion(rng.fork("question"), family, scene, config);
      const gold = q?.solve(scene.objects);
      if (q && gold) return { scene, q, gold, rng };
      if (k > 64) throw new Error(`bench: no scene supports a ${family} question`);
    }
  };

  const mmmu: MmmuProblem[] = [];
  const perSubject = new Map<string, number>();
  for (let i = 0; i < counts.mmmu; i++) {
    const family = MMMU_FAMILIES[i % MMMU_FAMILIES.length];
    const { scene, q, gold } = questionFor("mmmu", i, family);
    const n = (perSubject.get(family) ?? 0) + 1;
    perSubject.set(family, n);
    mmmu.push(toMmmu(q, gold, addImage("mmmu", i, scene), n));
  }
  files["mmmu.jsonl"] = jsonl(mmmu);

  const mathvista: MathVistaProblem[] = [];
  for (let i = 0; i < counts.mathvista; i++) {
    const family = MATHVISTA_FAMILIES[i % MATHVISTA_FAMILIES.length];
    const { scene, q, gold } = questionFor("mathvista", i, family);
    mathvista.push(toMathVista(q, gold, addImage("mathvista", i, scene), config.size, i + 1));
  }
  files["mathvista.jsonl"] = jsonl(mathvista);

  const mmvet: MmVetProblem[] = [];
  for (let i = 0; i < counts.mmvet; i++) {
    const rng = root.fork(`mmvet/${i}`);
    const scene = sampleScene(rng.fork("scene"), config);
    mmvet.push(mmvetProblem(rng.fork("question"), scene.objects, addImage("mmvet", i, scene), i));
  }
  files["mmvet.jsonl"] = jsonl(mmvet);
  files["scenes.jsonl"] = jsonl(scenes);

  await mapLimit(images, 32, (im) =>
    writeFile(join(out, im.path), renderScenePng(im.scene, config.size, config.clutter.noise)),
  );
  const manifest: BenchManifest = {
    format: "sr2se-shapes-bench",
    version: 1,
    seed: options.seed,
    counts,
    files: {},
  };
  for (const [name, text] of Object.entries(files)) {
    await writeFileAtomic(join(out, name), text);
    manifest.files[name] = {
      records: text.split("\n").length - 1,
      sha256: createHash("sha256").update(text).digest("hex"),
    };
  }
  await writeFileAtomic(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
