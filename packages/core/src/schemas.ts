import { z } from "zod";

/** One object of a scene: what it is and where it sits on the 3×3 grid ([row, col]). */
export const SceneObjectSchema = z
  .object({
    shape: z.string().min(1),
    color: z.string().min(1),
    size: z.string().min(1),
    cell: z.tuple([z.number().int(), z.number().int()]),
  })
  .passthrough();
export type SceneObject = z.infer<typeof SceneObjectSchema>;

/** How an answer is compared against the gold one. Absent means "text". */
export const AnswerTypeSchema = z.enum(["yes_no", "integer", "float", "choice", "text"]);
export type AnswerType = z.infer<typeof AnswerTypeSchema>;

/** A training or evaluation sample: the seed format {image, question, answer} plus optional fields. */
export const SampleSchema = z
  .object({
    id: z.string().min(1),
    image: z.string().min(1),
    question: z.string(),
    answer: z.string(),
    answer_type: AnswerTypeSchema.optional(),
    choices: z.array(z.string()).nullable().optional(),
    family: z.string().optional(),
    difficulty: z.number().int().optional(),
    description: z.string().optional(),
    reasoning: z.string().optional(),
    response: z.string().optional(),
    objects: z.array(SceneObjectSchema).optional(),
  })
  .passthrough();
export type Sample = z.infer<typeof SampleSchema>;

/** Where a preference pair came from and how its two sides were judged. */
export const PairMetaSchema = z
  .object({
    source: z.string().optional(),
    round: z.number().int().optional(),
    chosen_correct: z.boolean().optional(),
    rejected_correct: z.boolean().optional(),
    policy: z.string().optional(),
    /** Reference log-probs precomputed once (TRL's column names), summed over the completion tokens. */
    ref_chosen_logps: z.number().optional(),
    ref_rejected_logps: z.number().optional(),
    /** SR-DPO's weight of the pair in the loss. */
    weight: z.number().nonnegative().optional(),
  })
  .passthrough();
export type PairMeta = z.infer<typeof PairMetaSchema>;

/** A preference pair (IPR output, SR-DPO input): both responses answer the same prompt. */
export const PreferencePairSchema = z
  .object({
    id: z.string().min(1),
    sample_id: z.string().min(1),
    image: z.string().optional(),
    prompt: z.string(),
    chosen: z.string(),
    rejected: z.string(),
    meta: PairMetaSchema.optional(),
  })
  .passthrough();
export type PreferencePair = z.infer<typeof PreferencePairSchema>;

/** A policy's answer to one sample, as eval reads it. */
export const PredictionSchema = z
  .object({
    id: z.string().min(1),
    response: z.string(),
    exit_level: z.number().int().optional(),
    confidence: z.number().optional(),
    tokens: z.number().int().optional(),
  })
  .passthrough();
export type Prediction = z.infer<typeof PredictionSchema>;
