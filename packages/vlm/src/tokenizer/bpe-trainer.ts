import { BYTES_TO_UNICODE, byteLevelWords } from "./byte-level.js";

/** The special and atomic tokens sr2se's chat template and response format need. */
export const SPECIAL_TOKENS = {
  eos: "<|endoftext|>",
  imStart: "<|im_start|>",
  imEnd: "<|im_end|>",
  image: "<image>",
} as const;

/** Tags of the response format: atomic tokens, but not special (decoding keeps them). */
export const FORMAT_TOKENS = ["<description>", "</description>", "<think>", "</think>", "\\boxed{"] as const;

/** Options of BPE training. */
export interface TrainBpeOptions {
  /** Total vocabulary size, special tokens included (default 512). */
  vocabSize?: number;
  /** Pairs seen fewer times are not merged (default 2). */
  minFrequency?: number;
  /** Extra atomic tokens beyond the chat and format ones. */
  extraTokens?: string[];
}

/**
 * Trains a byte-level BPE tokenizer (GPT-2 style) on a corpus and returns it as a Hugging Face
 * `tokenizer.json` object, loadable by @huggingface/tokenizers and by Python's `tokenizers`.
 */
export function trainBpe(corpus: Iterable<string>, options: TrainBpeOptions = {}): Record<string, unknown> {
  const vocabSize = options.vocabSize ?? 512;
  const minFrequency = options.minFrequency ?? 2;
  const specials = Object.values(SPECIAL_TOKENS);
  const atomic = [...FORMAT_TOKENS, ...(options.extraTokens ?? [])];
  const reserved = specials.length + atomic.length;
  if (vocabSize < 256 + reserved)
    throw new RangeError(
      `trainBpe: vocabSize ${vocabSize} is below the ${256 + reserved} byte and special tokens`,
    );

  // Count pre-tokenized words; atomic tokens are cut out of the text first so they are never merged into.
  const splitter = new RegExp([...specials, ...atomic].map(escapeRegExp).join("|"), "g");
  const wordCounts = new Map<string, number>();
  for (const text of corpus) {
    for (const part of text.split(splitter)) {
      for (const w of byteLevelWords(part)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    }
  }

  const vocab = new Map<string, number>();
  for (const s of [...BYTES_TO_UNICODE].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0)))
    vocab.set(s, vocab.size);
  const words = [...wordCounts].map(([w, count]) => ({ symbols: Array.from(w), count }));
  const merges: Array<[string, string]> = [];
  const target = vocabSize - reserved;

  while (vocab.size < target) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let best = "";
    let bestCount = 0;
    for (const [key, count] of pairs) {
      // Ties broken by the pair's text, so training is deterministic.
      if (count > bestCount || (count === bestCount && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (bestCount < minFrequency) break;
    const [a, b] = best.split("\u0000");
    const merged = a + b;
    merges.push([a, b]);
    vocab.set(merged, vocab.size);
    for (const word of words) {
      const s = word.symbols;
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === a && s[i + 1] === b) s.splice(i, 2, merged);
      }
    }
  }

  const addedTokens = [
    ...specials.map((content) => ({ content, special: true })),
    ...atomic.map((content) => ({ content, special: false })),
  ].map((t, i) => ({
    id: vocab.size + i,
    content: t.content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: t.special,
  }));

  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
