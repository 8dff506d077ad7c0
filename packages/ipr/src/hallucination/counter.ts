import type { SceneObject } from "@sr2se/core";

/** Counts of one response: its object mentions, and those of them the image does not hold. */
export interface HallucinationCount {
  mentioned: number;
  hallucinated: number;
  /** The hallucinated mentions as written ("red circle"), where the counter names them. */
  words?: string[];
}

/**
 * Counts a response's object mentions against its image's objects, for the hallucination statistics.
 * `createHallucinationCounter` of `@sr2se/eval` is one (CHAIR's counts, so the statistics agree with
 * `sr2se eval score --bench chair`); with the shapes world, give it `SHAPES_WORLD_VOCABULARY` of `@sr2se/data`.
 */
export type HallucinationCounter = (response: string, objects: readonly SceneObject[]) => HallucinationCount;
