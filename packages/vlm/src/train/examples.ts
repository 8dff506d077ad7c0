// Turning dataset samples into training sequences: the chat (question → gold response, or a
// correction dialogue whose last assistant turn carries the loss), tokenized, and grouped into
// batches of similar length in a seeded order that a resumed run recomputes exactly.
import { formatResponse, Rng, type Sample, verifyPrompt } from "@sr2se/core";
import { encodeChat, IGNORE_INDEX } from "../data/encode.js";
import type { ChatTurn, VlmTokenizer } from "../tokenizer/tokenizer.js";

/** A sample's training chat: its correction dialogue when it has one, else the question and the gold response. */
export function trainingChat(sample: Sample): ChatTurn[] {
  const dialogue = (sample as { dialogue?: { messages?: ChatTurn[] } }).dialogue;
  if (dialogue?.messages && dialogue.messages.length >= 2) return dialogue.messages;
  return [
    { role: "user", content: sample.question },
    { role: "assistant", content: goldResponse(sample) },
  ];
}

/** Returns a sample's gold response: its `response`, else one built from description, reasoning and answer. */
export function goldResponse(sample: Sample): string {
  if (sample.response) return sample.response;
  return formatResponse({ description: sample.description, think: sample.reasoning, answer: sample.answer });
}

/**
 * A sample's text-only self-reward chat, as Vision-SR1's second pass asks it: the verify prompt over
 * the sample's gold description (no image), answered with its reasoning and answer. Null when the
 * sample has no description, or its description alone cannot be its reasoning's source (a correction
 * dialogue).
 */
export function verifyChat(sample: Sample): ChatTurn[] | null {
  if (!sample.description || (sample as { dialogue?: unknown }).dialogue) return null;
  return [
    { role: "user", content: verifyPrompt(sample.description, sample.question) },
    { role: "assistant", content: formatResponse({ think: sample.reasoning ?? "", answer: sample.answer }) },
  ];
}

/**
 * Returns the indices of the samples that also train the text-only self-reward skill: a seeded
 * choice of round(share · n) of those with a `verifyChat`, in ascending order.
 */
export function verifySampleIndices(samples: Sample[], share: number, seed: number): number[] {
  if (!(share >= 0 && share <= 1)) throw new Error(`training.verify_share must be in 0–1, got ${share}`);
  const eligible = samples.flatMap((s, i) => (verifyChat(s) ? [i] : []));
  const k = Math.round(share * eligible.length);
  if (k === 0) return [];
  return new Rng(`${seed}:verify`)
    .shuffle(eligible)
    .slice(0, k)
    .sort((a, b) => a - b);
}

/**
 * Returns the object names of the samples' scene annotations (" <color> <shape>", with the leading
 * space they have in running text), sorted: with SFT's `object_tokens`, each becomes one atomic token,
 * so that the question's object and the description's are the same token.
 */
export function objectTokens(samples: Sample[]): string[] {
  const names = new Set<string>();
  for (const s of samples) for (const o of s.objects ?? []) names.add(` ${o.color} ${o.shape}`);
  return [...names].sort();
}

/**
 * Returns every text a tokenizer for this data should see (questions, responses, dialogue turns,
 * and the text-only self-reward chats of `verify`, indices into samples).
 */
export function corpusOf(samples: Sample[], verify: number[] = []): string[] {
  return [
    ...samples.flatMap((s) => trainingChat(s).map((t) => t.content)),
    ...verify.flatMap((i) => (verifyChat(samples[i]) ?? []).map((t) => t.content)),
  ];
}

/** A tokenized training example with the index of its sample. */
export interface TrainExample {
  sample: number;
  /** False for a text-only example (no image placeholder, no pixels). */
  image?: boolean;
  ids: number[];
  labels: number[];
  /** Sequence length once the image placeholder is expanded. */
  length: number;
}

/** Returns the tokenized examples of samples (loss on the last assistant turn). */
export function encodeExamples(
  tok: VlmTokenizer,
  samples: Sample[],
  imageTokens: number,
  maxLength?: number,
): TrainExample[] {
  return samples.map((s, i) => {
    const e = encodeChat(tok, trainingChat(s), { image: true, maxLength });
    return { sample: i, ids: e.ids, labels: e.labels, length: e.ids.length - 1 + imageTokens };
  });
}

/** Returns the tokenized text-only self-reward examples of the samples at `indices` (no image). */
export function encodeVerifyExamples(
  tok: VlmTokenizer,
  samples: Sample[],
  indices: number[],
  maxLength?: number,
): TrainExample[] {
  return indices.map((i) => {
    const chat = verifyChat(samples[i]);
    if (!chat) throw new Error(`encodeVerifyExamples: sample ${samples[i].id} has no description`);
    const e = encodeChat(tok, chat, { image: false, maxLength });
    return { sample: i, image: false, ids: e.ids, labels: e.labels, length: e.ids.length - 1 };
  });
}

/**
 * Returns the batches of one epoch (indices into examples): a seeded shuffle, then pools of 32
 * batches sorted by length and cut into batches (little padding), then the batches shuffled.
 */
export function epochBatches(
  examples: TrainExample[],
  batchSize: number,
  seed: number,
  epoch: number,
): number[][] {
  const rng = new Rng(`${seed}:epoch:${epoch}`);
  const order = rng.shuffle(examples.map((_, i) => i));
  const pool = batchSize * 32;
  const batches: number[][] = [];
  for (let s = 0; s < order.length; s += pool) {
    const group = order.slice(s, s + pool).sort((a, b) => examples[a].length - examples[b].length);
    for (let b = 0; b + batchSize <= group.length; b += batchSize)
      batches.push(group.slice(b, b + batchSize));
  }
  if (batches.length === 0 && order.length > 0) batches.push(order.slice(0, batchSize));
  return rng.shuffle(batches);
}

/**
 * Returns the loss weight of each target token of `labels` (those that are not IGNORE_INDEX, in
 * order): `weight` from the last occurrence of the `marker` token sequence (the `<think>` tag) in the
 * targets to the end, 1 before it; all 1 when the targets hold no marker.
 */
export function reasoningWeights(labels: number[], marker: number[], weight: number): number[] {
  const targets = labels.filter((l) => l !== IGNORE_INDEX);
  let from = targets.length;
  for (let i = targets.length - marker.length; i >= 0; i--) {
    if (marker.every((m, j) => targets[i + j] === m)) {
      from = i;
      break;
    }
  }
  return targets.map((_, i) => (i >= from ? weight : 1));
}
