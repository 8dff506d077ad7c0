import type { ChatTurn, VlmTokenizer } from "../tokenizer/tokenizer.js";

/** Label value of tokens that carry no loss (PyTorch's ignore_index). */
export const IGNORE_INDEX = -100;

/** One tokenized training example: the loss falls on the target tokens only. */
export interface EncodedExample {
  ids: number[];
  /** Same length as ids: the next-token target at each position, IGNORE_INDEX outside the target. */
  labels: number[];
  /** Number of prompt tokens (the target starts here). */
  promptLength: number;
}

/**
 * Tokenizes a chat whose last turn is the assistant's target: the prompt is every earlier turn
 * rendered with the generation prompt, the target is the last turn's content closed by `<|im_end|>`.
 * Labels are shifted for next-token prediction (labels[i] is the token after ids[i]).
 */
export function encodeChat(
  tok: VlmTokenizer,
  turns: ChatTurn[],
  opts: { image: boolean; maxLength?: number },
): EncodedExample {
  const last = turns[turns.length - 1];
  if (last?.role !== "assistant") throw new Error("encodeChat: the last turn must be the assistant's target");
  const prompt = tok.encode(
    tok.renderChat(turns.slice(0, -1), { image: opts.image, addGenerationPrompt: true }),
  );
  const target = [...tok.encode(last.content), tok.imEndId];
  let ids = [...prompt, ...target];
  const labels = new Array<number>(ids.length).fill(IGNORE_INDEX);
  for (let i = prompt.length - 1; i < ids.length - 1; i++) labels[i] = ids[i + 1];
  if (opts.maxLength !== undefined && ids.length > opts.maxLength) {
    if (prompt.length >= opts.maxLength) {
      throw new Error(
        `encodeChat: the prompt alone is ${prompt.length} tokens, above maxLength ${opts.maxLength}`,
      );
    }
    ids = ids.slice(0, opts.maxLength);
    labels.length = opts.maxLength;
    labels[opts.maxLength - 1] = IGNORE_INDEX;
  }
  return { ids, labels, promptLength: prompt.length };
}

/** Tokenizes a prompt (every turn given) with the assistant's turn opened, ready for generation. */
export function encodePrompt(tok: VlmTokenizer, turns: ChatTurn[], opts: { image: boolean }): number[] {
  return tok.encode(tok.renderChat(turns, { image: opts.image, addGenerationPrompt: true }));
}
