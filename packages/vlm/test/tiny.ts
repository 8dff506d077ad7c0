// A tiny VLM for tests: a BPE tokenizer trained on a few lines and a config small enough to run in milliseconds.
import { encodePng } from "@sr2se/data";
import { asTinyModel, squareRgb } from "../../../test-support/tiny-vlm.js";
import { defaultConfig, type VlmConfig } from "../src/config.js";
import { trainBpe } from "../src/tokenizer/bpe-trainer.js";
import { VlmTokenizer } from "../src/tokenizer/tokenizer.js";
import { VLM } from "../src/vlm.js";

export const corpus = [
  "<description>A red circle top-left. A blue square center.</description><think>Listed: red circle. Count 1.</think>\\boxed{1}",
  "How many circles are there? Is there a green triangle in the image? Answer yes or no.",
  "<description>Two green triangles.</description><think>The question asks for a triangle. Listed: yes.</think>\\boxed{yes}",
];

/** Returns the tokenizer of the tests. */
export function tinyTokenizer(): VlmTokenizer {
  return VlmTokenizer.fromJSON(trainBpe(Array(10).fill(corpus).flat(), { vocabSize: 320 }));
}

/** Returns a tiny config for a tokenizer. */
export function tinyConfig(tok: VlmTokenizer, tied = true): VlmConfig {
  const c = asTinyModel(defaultConfig(tok.vocabSize, { image: tok.imageId, eos: tok.eosId }));
  c.text_config.tie_word_embeddings = tied;
  return c;
}

/** Returns a tiny VLM with random weights (larger init, so greedy decoding does not stop at once). */
export function tinyVlm(seed = 1, tied = true): VLM {
  const tok = tinyTokenizer();
  return new VLM(tinyConfig(tok, tied), tok, seed);
}

/** Returns a small PNG: a coloured square on a plain background. */
export function tinyPng(r: number, g: number, b: number, size = 20): Uint8Array {
  return encodePng(squareRgb(r, g, b, size), size, size);
}
