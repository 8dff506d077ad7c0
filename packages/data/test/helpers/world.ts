import { Rng } from "@sr2se/core";
import {
  generateSample,
  resolveWorldConfig,
  type ShapesSample,
  type WorldConfigInput,
} from "../../src/index.js";

/** `n` samples of a split generated in memory with their scenes. */
export function samples(n: number, seed: number | string = 1, config: WorldConfigInput = {}) {
  const c = resolveWorldConfig(config);
  const root = new Rng(seed);
  return Array.from({ length: n }, (_, i) => generateSample(root, "train", i, c));
}

/** Objects of a sample matching a noun phrase of the questions ("circles", "red objects", "red circles"). */
export function matching(sample: ShapesSample, noun: string): number {
  const m = /^(?:(\w+) objects|(\w+) (\w+)s|(\w+)s)$/.exec(noun);
  if (!m) throw new Error(`unparsed noun "${noun}"`);
  return sample.objects.filter((o) => {
    if (m[1]) return o.color === m[1];
    if (m[2]) return o.color === m[2] && o.shape === m[3];
    return o.shape === m[4];
  }).length;
}
