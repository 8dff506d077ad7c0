// Rollouts: n sampled responses a prompt from the policy with the KV-cache decoder, then, for the
// self-reward, one text-only answer a response from its own description (Vision-SR1's second pass).
// Each request draws from its own seeded generator, so a batch samples the same tokens however it is
// cut into decoder batches, and a resumed run samples what the uninterrupted one did.

import { verifyPrompt } from "@sr2se/core";
import { extractDescription } from "@sr2se/hsr-ee";
import type { SequenceInput, VLM } from "@sr2se/vlm";
import { decode, IGNORE_INDEX } from "@sr2se/vlm";

/** A prompt to roll out: the question, its ground truth and its image as the model's pixels. */
export interface RolloutPrompt {
  id: string;
  question: string;
  answer: string;
  /** Normalized CHW pixels (`vlm.pixelsOf`); absent for a text-only prompt. */
  pixels?: Float32Array;
}

/** How responses are sampled (verl's rollout settings). */
export interface SamplingSettings {
  /** Responses a prompt (verl's `rollout.n`). */
  n: number;
  temperature: number;
  topP: number;
  /** Response tokens at most (verl's `max_response_length`). */
  maxTokens: number;
  /** Requests decoded together. */
  batchSize: number;
  /** Seed of this batch of requests (request i draws from `${seed}:${i}`). */
  seed: number;
}

/** One sampled response. */
export interface Rollout {
  /** Index of its prompt in the list given to `sampleRollouts`. */
  prompt: number;
  /** Prompt token ids (the assistant turn opened). */
  promptIds: number[];
  /** Generated token ids, the closing `<|im_end|>` included when the response ended by itself (or a sampled `<image>`, which ends it). */
  responseIds: number[];
  /** The response text (special tokens left out). */
  text: string;
  finishReason: "stop" | "length";
}

/** Returns generations for prompt token ids, decoded `batchSize` at a time in order of prompt length. */
async function generate(
  policy: VLM,
  prompts: SequenceInput[],
  settings: Omit<SamplingSettings, "n">,
): Promise<{ ids: number[]; text: string; finishReason: "stop" | "length" }[]> {
  const order = prompts.map((_, i) => i).sort((a, b) => prompts[a].ids.length - prompts[b].ids.length);
  const out = new Array<{ ids: number[]; text: string; finishReason: "stop" | "length" }>(prompts.length);
  for (let s = 0; s < order.length; s += settings.batchSize) {
    const chunk = order.slice(s, s + settings.batchSize);
    const decoded = await decode(
      policy,
      policy.tokenizer,
      chunk.map((i) => prompts[i]),
      {
        maxTokens: settings.maxTokens,
        seed: settings.seed,
        stop: [],
        temperature: settings.temperature,
        topP: settings.topP,
      },
      chunk,
    );
    const image = policy.tokenizer.imageId;
    decoded.forEach((d, j) => {
      // A sampled <image> ends the response there: in a training sequence it would stand for a second image.
      const at = d.ids.indexOf(image);
      out[chunk[j]] =
        at < 0
          ? { ids: d.ids, text: d.text, finishReason: d.finishReason }
          : {
              ids: d.ids.slice(0, at + 1),
              text: at === 0 ? "" : policy.tokenizer.decode(d.ids.slice(0, at)),
              finishReason: "stop",
            };
    });
  }
  return out;
}

/** Returns `n` sampled responses to each prompt, prompt-major (verl's interleaved repeat). */
export async function sampleRollouts(
  policy: VLM,
  prompts: RolloutPrompt[],
  settings: SamplingSettings,
): Promise<Rollout[]> {
  const promptIds = prompts.map((p) =>
    policy.promptIds([{ role: "user", content: p.question }], p.pixels !== undefined),
  );
  const requests: SequenceInput[] = [];
  const of: number[] = [];
  prompts.forEach((p, i) => {
    for (let k = 0; k < settings.n; k++) {
      requests.push({ ids: promptIds[i], pixels: p.pixels });
      of.push(i);
    }
  });
  const generated = await generate(policy, requests, settings);
  return generated.map((g, r) => ({
    prompt: of[r],
    promptIds: promptIds[of[r]],
    responseIds: g.ids,
    text: g.text,
    finishReason: g.finishReason,
  }));
}

/**
 * Returns the self-reward pass: for each response, what the same policy answers (one sample, the
 * rollout's sampling settings) to Vision-SR1's verify prompt built from the response's description
 * and the question, with no image.
 */
export async function descriptionAnswers(
  policy: VLM,
  prompts: RolloutPrompt[],
  rollouts: Rollout[],
  settings: Omit<SamplingSettings, "n">,
): Promise<string[]> {
  const requests: SequenceInput[] = rollouts.map((r) => ({
    ids: policy.promptIds(
      [{ role: "user", content: verifyPrompt(extractDescription(r.text), prompts[r.prompt].question) }],
      false,
    ),
  }));
  return (await generate(policy, requests, settings)).map((g) => g.text);
}

/**
 * Returns a rollout as a training sequence: the prompt and the response but its last token as inputs,
 * each response token as the label of the position before it (the last token is never an input, so a
 * response that ends in a sampled `<image>` adds no second image).
 */
export function rolloutSequence(rollout: Rollout, pixels?: Float32Array): SequenceInput {
  const full = [...rollout.promptIds, ...rollout.responseIds];
  const ids = full.slice(0, -1);
  const labels = new Array<number>(ids.length).fill(IGNORE_INDEX);
  for (let i = rollout.promptIds.length - 1; i < ids.length; i++) labels[i] = full[i + 1];
  return { ids, labels, pixels };
}
