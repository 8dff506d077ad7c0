import type { Rng } from "@sr2se/core";
import { article } from "../shapes/describe.js";

/** An image with its ground-truth objects, POPE's input (`{"image": …, "objects": […]}`). */
export interface PopeImage {
  image: string;
  objects: string[];
}

/** One POPE question, in POPE's own JSONL fields. */
export interface PopeQuestion {
  question_id: number;
  image: string;
  text: string;
  label: "yes" | "no";
}

/** POPE's negative-sampling strategies, one a split. */
export const POPE_SPLITS = ["random", "popular", "adversarial"] as const;
export type PopeSplit = (typeof POPE_SPLITS)[number];

/** The frequency and co-occurrence statistics POPE samples negatives from. */
export interface PopeStatistics {
  /** Every object of the set, by frequency (descending; ties keep first-seen order, as Python's stable sort). */
  byFrequency: string[];
  /** For each object, the objects seen with it, by co-occurrence count (descending, ties first-seen). */
  coOccurring: Map<string, string[]>;
}

/** The statistics of a set of images, computed as POPE's `generate_ground_truth_objects` and `compute_co_occurrence`. */
export function popeStatistics(images: readonly PopeImage[]): PopeStatistics {
  const freq = new Map<string, number>();
  const co = new Map<string, Map<string, number>>();
  for (const img of images) {
    for (const o of img.objects) {
      freq.set(o, (freq.get(o) ?? 0) + 1);
      let row = co.get(o);
      if (!row) co.set(o, (row = new Map()));
      for (const other of img.objects) if (other !== o) row.set(other, (row.get(other) ?? 0) + 1);
    }
  }
  const byCount = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const coOccurring = new Map<string, string[]>();
  for (const [o, row] of co) coOccurring.set(o, byCount(row));
  return { byFrequency: byCount(freq), coOccurring };
}

/** POPE's question for an object, with the right article. */
export function popeText(object: string): string {
  return `Is there ${article(object)} ${object} in the image?`;
}

/**
 * POPE questions for one split, sampled as POPE's `pope()` samples them: for each image, its first
 * `sampleNum` objects each give a "yes" question followed by a "no" question about an absent object
 * (random: any absent object of the set; popular: the most frequent absent one; adversarial: the
 * absent object that co-occurs most with that positive), never repeating an object within an image.
 * Images with fewer than `sampleNum` objects are skipped, as POPE filters them.
 */
export function popeQuestions(
  images: readonly PopeImage[],
  split: PopeSplit,
  rng: Rng,
  sampleNum = 3,
  stats: PopeStatistics = popeStatistics(images),
): PopeQuestion[] {
  const all = stats.byFrequency;
  const out: PopeQuestion[] = [];
  let id = 1;
  for (const img of images) {
    if (img.objects.length < sampleNum) continue;
    const history: string[] = [];
    const usable = (o: string) => !history.includes(o) && !img.objects.includes(o);
    const randomAbsent = () => {
      if (!all.some(usable)) throw new Error(`POPE: no absent object left for image "${img.image}"`);
      let o = rng.choice(all);
      while (!usable(o)) o = rng.choice(all);
      return o;
    };
    for (let i = 0; i < sampleNum; i++) {
      const pos = img.objects[i];
      history.push(pos);
      out.push({ question_id: id++, image: img.image, text: popeText(pos), label: "yes" });
      let neg: string | undefined;
      if (split === "popular") neg = all.find(usable);
      else if (split === "adversarial") neg = (stats.coOccurring.get(pos) ?? []).find(usable);
      neg ??= randomAbsent();
      history.push(neg);
      out.push({ question_id: id++, image: img.image, text: popeText(neg), label: "no" });
    }
  }
  return out;
}
