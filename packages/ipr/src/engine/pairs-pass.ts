// The end-of-run pass over the pairs a run found: balance over question families and yes/no
// answers, and the random-negatives ablation. It runs on the whole set sorted by id with a seeded
// RNG, so its result depends on the pairs found and the seed, never on the order samples ended in.
import { type PreferencePair, Rng } from "@sr2se/core";
import type { BalanceKey, NegativeSource } from "./resolved-options.js";
import { type PairsPass, sortedKeys } from "./stats.js";

/** What the pass needs of the run's options. */
export interface PairsPassOptions {
  negatives: NegativeSource;
  balance: readonly BalanceKey[];
  seed: number;
}

/** Whether a run with these options ends with a pass over its pairs. */
export function needsPairsPass(options: PairsPassOptions): boolean {
  return options.negatives === "random" || options.balance.length > 0;
}

/** A pair's question family (`meta.family`), or "none". */
export function familyOf(pair: PreferencePair): string {
  const f = pair.meta?.family;
  return typeof f === "string" && f !== "" ? f : "none";
}

/** "yes" or "no" for the gold answer of a yes/no question, null for any other question. */
export function yesNoAnswer(answerType: unknown, answer: unknown): "yes" | "no" | null {
  if (answerType !== "yes_no") return null;
  const a = String(answer ?? "")
    .trim()
    .toLowerCase();
  return a === "yes" || a === "no" ? a : null;
}

/** The gold (= chosen) answer of a yes/no pair, or null for other pairs. */
function yesNoOf(pair: PreferencePair): "yes" | "no" | null {
  return yesNoAnswer(pair.meta?.answer_type, pair.meta?.answer);
}

/**
 * Returns the pairs to write and what the pass did. `balance: ["families"]` keeps as many pairs of
 * each family as the smallest family has (yes and no alternating within a family); `["yesno"]` keeps
 * as many yes as no pairs (other pairs untouched); with both, yes/no first, then families, then
 * yes/no again (an odd quota can leave one answer over).
 * `negatives: "random"` gives each kept pair the loser of another kept pair (a random cyclic
 * permutation, so none keeps its own); a lone pair cannot get one and is dropped.
 */
export function passOverPairs(
  found: readonly PreferencePair[],
  options: PairsPassOptions,
): { pairs: PreferencePair[]; pass: PairsPass } {
  const rng = new Rng(`ipr-pairs-pass\u0000${options.seed}`);
  let kept = [...found].sort(byId);
  const families = options.balance.includes("families");
  const yesno = options.balance.includes("yesno");
  if (yesno) kept = balanceYesNo(kept, rng.fork("yesno"));
  if (families) kept = balanceFamilies(kept, rng.fork("families"));
  // an odd quota leaves a yes/no family one answer over
  if (yesno && families) kept = balanceYesNo(kept, rng.fork("yesno-again"));
  let swapped = 0;
  if (options.negatives === "random") {
    if (kept.length < 2) kept = [];
    else {
      kept = randomNegatives(kept, rng.fork("negatives"));
      swapped = kept.length;
    }
  }
  return {
    pairs: kept,
    pass: {
      before: found.length,
      after: kept.length,
      by_family_before: countFamilies(found),
      by_family_after: countFamilies(kept),
      yes_no_before: countYesNo(found),
      yes_no_after: countYesNo(kept),
      random_negatives: swapped,
    },
  };
}

function balanceFamilies(pairs: PreferencePair[], rng: Rng): PreferencePair[] {
  const groups = new Map<string, PreferencePair[]>();
  for (const p of pairs) {
    const f = familyOf(p);
    groups.set(f, [...(groups.get(f) ?? []), p]);
  }
  if (groups.size === 0) return [];
  const quota = Math.min(...[...groups.values()].map((g) => g.length));
  const kept: PreferencePair[] = [];
  for (const family of [...groups.keys()].sort()) {
    const group = rng.fork(family).shuffle(groups.get(family) as PreferencePair[]);
    const yes = group.filter((p) => yesNoOf(p) === "yes");
    const no = group.filter((p) => yesNoOf(p) === "no");
    const rest = group.filter((p) => yesNoOf(p) === null);
    const alternating: PreferencePair[] = [];
    for (let i = 0; i < Math.max(yes.length, no.length); i++) {
      if (i < yes.length) alternating.push(yes[i]);
      if (i < no.length) alternating.push(no[i]);
    }
    kept.push(...[...alternating, ...rest].slice(0, quota));
  }
  return kept.sort(byId);
}

function balanceYesNo(pairs: PreferencePair[], rng: Rng): PreferencePair[] {
  const yes = pairs.filter((p) => yesNoOf(p) === "yes");
  const no = pairs.filter((p) => yesNoOf(p) === "no");
  const n = Math.min(yes.length, no.length);
  const keep = new Set([...rng.sample(yes, n), ...rng.sample(no, n)]);
  return pairs.filter((p) => yesNoOf(p) === null || keep.has(p));
}

/** Each pair's loser replaced by another pair's (Sattolo's algorithm: one cycle, no fixed point). */
function randomNegatives(pairs: PreferencePair[], rng: Rng): PreferencePair[] {
  const from = pairs.map((_, i) => i);
  for (let i = from.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [from[i], from[j]] = [from[j], from[i]];
  }
  return pairs.map((p, i) => {
    const source = pairs[from[i]];
    const meta: Record<string, unknown> = { ...p.meta, negative: "random", rejected_from: source.sample_id };
    meta.rejected_answer = source.meta?.rejected_answer ?? null;
    // the loser answers another question: its correctness and hallucinations here are unknown
    delete meta.rejected_correct;
    delete meta.rejected_hallucinated;
    delete meta.corruption;
    if (meta.hallucination && typeof meta.hallucination === "object")
      meta.hallucination = { ...(meta.hallucination as Record<string, unknown>), rejected: null };
    return { ...p, rejected: source.rejected, meta };
  });
}

function countFamilies(pairs: readonly PreferencePair[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of pairs) counts[familyOf(p)] = (counts[familyOf(p)] ?? 0) + 1;
  return sortedKeys(counts);
}

function countYesNo(pairs: readonly PreferencePair[]): { yes: number; no: number } {
  const counts = { yes: 0, no: 0 };
  for (const p of pairs) {
    const a = yesNoOf(p);
    if (a !== null) counts[a]++;
  }
  return counts;
}

function byId(a: PreferencePair, b: PreferencePair): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
