import type { EvalMode, Headline } from "../common/mode.js";
import { EvalInputError } from "../predictions/errors.js";
import { descriptionText, matchPredictions } from "../predictions/match.js";
import { findMentions, type Mention } from "./mentions.js";
import { type ChairVocabulary, type CompiledVocabulary, compileVocabulary } from "./vocabulary.js";

/** A sample's ground truth: its id and the objects in its image (scene objects or names like "red circle"). */
export interface ChairSample {
  id: string;
  objects: readonly ({ shape: string; color?: string } | string)[];
}

export interface ChairOptions {
  /** "official": every mention counts, as CHAIR counts them; "robust": mentions under a negation ("no blue star") are skipped. */
  mode?: EvalMode;
  /** The words that name objects and attributes (the shapes world's: `SHAPES_WORLD_VOCABULARY` of `@sr2se/data`). */
  vocabulary: ChairVocabulary;
  /** "category" (default): a coloured mention must match an object's colour and shape; "shape": the shape alone. */
  granularity?: "category" | "shape";
  /** Score only the <description>…</description> part when a response has one (default true). */
  descriptionOnly?: boolean;
}

export interface ChairSampleResult {
  id: string;
  mentions: number;
  hallucinated: number;
  /** The hallucinated mentions as written. */
  words: string[];
  /** 1 when the response mentions at least one object that is not in the image. */
  score: number;
}

export interface ChairResult {
  bench: "chair";
  mode: EvalMode;
  /** Hallucinated mentions / all mentions. */
  chairI: number;
  /** Responses with a hallucinated mention / all responses. */
  chairS: number;
  mentions: number;
  hallucinated: number;
  responses: number;
  headline: Headline & { lowerIsBetter: true };
  samples: ChairSampleResult[];
  table: string;
}

/** The canonical (object, attribute) pairs of a sample's objects under the vocabulary. */
function groundTruth(
  objects: ChairSample["objects"],
  vocab: CompiledVocabulary,
  id: string,
): { object: string; attribute: string | null }[] {
  return objects.map((o, k) => {
    if (typeof o === "string") {
      const m = findMentions(o, vocab)[0];
      if (!m)
        throw new EvalInputError(
          "format",
          `chair: sample ${id}: object ${k} "${o}" names no object of the vocabulary`,
          [id],
        );
      return { object: m.object, attribute: m.attribute };
    }
    const object = vocab.object.get(String(o.shape).toLowerCase());
    if (object === undefined) {
      throw new EvalInputError(
        "format",
        `chair: sample ${id}: objects[${k}].shape "${o.shape}" is not in the vocabulary`,
        [id],
      );
    }
    const attribute =
      o.color === undefined
        ? null
        : (vocab.attribute.get(String(o.color).toLowerCase()) ?? String(o.color).toLowerCase());
    return { object, attribute };
  });
}

/** True when a mention names something in the image. */
function present(
  m: Mention,
  truth: { object: string; attribute: string | null }[],
  granularity: "category" | "shape",
): boolean {
  return truth.some(
    (t) =>
      t.object === m.object &&
      (granularity === "shape" ||
        m.attribute === null ||
        t.attribute === null ||
        t.attribute === m.attribute),
  );
}

/** Options of `chairOfResponse`: the vocabulary as given or compiled. */
export type ChairResponseOptions = Omit<ChairOptions, "vocabulary" | "descriptionOnly"> & { id?: string } & (
    | { vocabulary: ChairVocabulary; compiled?: CompiledVocabulary }
    | { compiled: CompiledVocabulary; vocabulary?: ChairVocabulary }
  );

/** CHAIR_i, CHAIR_s and the counts of one text against its image's objects. */
export function chairOfResponse(
  text: string,
  objects: ChairSample["objects"],
  options: ChairResponseOptions,
): ChairSampleResult {
  const vocab = options.compiled ?? compileVocabulary(options.vocabulary as ChairVocabulary);
  const id = options.id ?? "";
  const truth = groundTruth(objects, vocab, id);
  let mentions = findMentions(text, vocab);
  if (options.mode === "robust") mentions = mentions.filter((m) => !m.negated);
  const bad = mentions.filter((m) => !present(m, truth, options.granularity ?? "category"));
  return {
    id,
    mentions: mentions.length,
    hallucinated: bad.length,
    words: bad.map((m) => m.text),
    score: bad.length > 0 ? 1 : 0,
  };
}

/** CHAIR_i and CHAIR_s from per-response counts (also what `compare` recomputes on resamples). */
export function chairTotals(samples: readonly Pick<ChairSampleResult, "mentions" | "hallucinated">[]) {
  const mentions = samples.reduce((n, s) => n + s.mentions, 0);
  const hallucinated = samples.reduce((n, s) => n + s.hallucinated, 0);
  const withAny = samples.filter((s) => s.hallucinated > 0).length;
  return {
    mentions,
    hallucinated,
    chairI: mentions === 0 ? 0 : hallucinated / mentions,
    chairS: samples.length === 0 ? 0 : withAny / samples.length,
  };
}

/** A response's object mentions and those of them the image does not hold. */
export interface HallucinationCount {
  mentioned: number;
  hallucinated: number;
  /** The hallucinated mentions as written (what IPR records with a pair's loser). */
  words?: string[];
}

/** Counts the mentions of one response against its image's objects. */
export type HallucinationCounter = (response: string, objects: ChairSample["objects"]) => HallucinationCount;

/** The part of a response CHAIR reads: its <description> unless `descriptionOnly` is false. */
function scoredText(response: string, options: Pick<ChairOptions, "descriptionOnly">): string {
  return options.descriptionOnly === false ? response : descriptionText(response);
}

/**
 * Returns a function that counts a response's object mentions and hallucinated ones exactly as
 * `scoreChair` does with the same options, for callers that tally them themselves (IPR's statistics).
 */
export function createHallucinationCounter(options: ChairOptions): HallucinationCounter {
  const compiled = compileVocabulary(options.vocabulary);
  const mode = options.mode ?? "official";
  return (response, objects) => {
    const r = chairOfResponse(scoredText(response, options), objects, { ...options, mode, compiled });
    return { mentioned: r.mentions, hallucinated: r.hallucinated, words: r.words };
  };
}

/**
 * CHAIR (Rohrbach et al. 2018) over open descriptions: CHAIR_i, the share of object mentions that are not in
 * the image, and CHAIR_s, the share of responses with at least one, against each sample's object list.
 */
export function scoreChair(
  samples: readonly ChairSample[],
  predictions: Iterable<{ id: string; response: string }>,
  options: ChairOptions,
): ChairResult {
  const mode = options.mode ?? "official";
  if (samples.length === 0) throw new EvalInputError("empty", "chair: the data has no samples");
  const byId = matchPredictions(
    samples.map((s) => s.id),
    predictions,
    { label: "chair" },
  );
  const compiled = compileVocabulary(options.vocabulary);
  const results = samples.map((s) => {
    const response = (byId.get(s.id) as { response: string }).response;
    return chairOfResponse(scoredText(response, options), s.objects, {
      ...options,
      mode,
      id: s.id,
      compiled,
    });
  });
  const t = chairTotals(results);
  const table = [
    "| Metric | Value |",
    "| --- | ---: |",
    `| CHAIR_i | ${(t.chairI * 100).toFixed(2)} (${t.hallucinated}/${t.mentions} mentions) |`,
    `| CHAIR_s | ${(t.chairS * 100).toFixed(2)} (${results.filter((r) => r.score).length}/${results.length} responses) |`,
  ].join("\n");
  return {
    bench: "chair",
    mode,
    chairI: t.chairI,
    chairS: t.chairS,
    mentions: t.mentions,
    hallucinated: t.hallucinated,
    responses: results.length,
    headline: { metric: "CHAIR_i", value: t.chairI * 100, lowerIsBetter: true },
    samples: results,
    table,
  };
}
