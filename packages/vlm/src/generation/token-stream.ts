// Tokens as a server reports them: each with its log-prob, bytes and likeliest alternatives
// (OpenAI's `logprobs.content`), and, while decoding, the text each one completes. The text is
// detokenized incrementally as vLLM does: a window of recent tokens is decoded again and its growth
// is the new text, held back while it ends in an unfinished character.
import type { StreamedToken, TokenLogprob } from "@sr2se/core";
import type { VlmTokenizer } from "../tokenizer/tokenizer.js";
import type { DecodedSequence, DecodeOptions } from "./generate.js";

/** Returns one generated token as a `TokenLogprob`. */
export function tokenLogprobOf(
  tok: VlmTokenizer,
  id: number,
  logprob: number,
  top?: readonly { id: number; logprob: number }[],
): TokenLogprob {
  const entry = (i: number, lp: number) => ({
    token: tok.decode([i], true),
    logprob: lp,
    bytes: tok.tokenBytes(i),
  });
  const t: TokenLogprob = entry(id, logprob);
  if (top) t.top = top.map((x) => entry(x.id, x.logprob));
  return t;
}

/** Returns a finished sequence's tokens as `TokenLogprob`s, end-of-turn tokens left out. */
export function tokenLogprobsOf(tok: VlmTokenizer, d: DecodedSequence): TokenLogprob[] {
  const out: TokenLogprob[] = [];
  d.ids.forEach((id, k) => {
    if (id === tok.imEndId || id === tok.eosId) return;
    out.push(tokenLogprobOf(tok, id, d.logprobs[k], d.top?.[k]));
  });
  return out;
}

/** The text of one request's tokens, a token at a time. */
class IncrementalText {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(private readonly tok: VlmTokenizer) {}

  /** Returns the text that `id` completes ("" while it holds part of a character, or is special). */
  push(id: number): string {
    this.ids.push(id);
    const before = this.tok.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const after = this.tok.decode(this.ids.slice(this.prefixOffset));
    if (after.length <= before.length || after.endsWith("\uFFFD")) return "";
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return after.slice(before.length);
  }
}

/**
 * Returns a `decode` `onToken` that hands each request's tokens, as they are sampled, to its
 * listener (indexed by `requestIndex`; end-of-turn tokens are not handed on).
 */
export function streamTokens(
  tok: VlmTokenizer,
  listeners: readonly (((token: StreamedToken) => void) | undefined)[],
): NonNullable<DecodeOptions["onToken"]> {
  const texts = new Map<number, IncrementalText>();
  return (request, id, logprob, top) => {
    const listen = listeners[request];
    if (!listen || id === tok.imEndId || id === tok.eosId) return;
    let text = texts.get(request);
    if (!text) {
      text = new IncrementalText(tok);
      texts.set(request, text);
    }
    listen({ ...tokenLogprobOf(tok, id, logprob, top), text: text.push(id) });
  };
}
