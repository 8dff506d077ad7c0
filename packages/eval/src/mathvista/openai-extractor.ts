import { OpenAIChatClient, type OpenAIChatClientOptions } from "@sr2se/core";
import { JudgmentCache, judgmentKey } from "../mmvet/cache.js";
import type { MathVistaExtractor } from "./extract-answer.js";
import { pyStrip } from "./python-number.js";

/** The model MathVista's README names for answer extraction. */
export const MATHVISTA_DEFAULT_EXTRACTOR_MODEL = "gpt-4-0613";

export interface MathVistaExtractorOptions extends OpenAIChatClientOptions {
  /** Asks again while the reply is empty, up to this many times (default 3). */
  emptyRetries?: number;
  /** JSONL file caching every extraction by SHA-256(model, prompt): a rerun asks nothing twice. */
  cacheFile?: string;
}

/**
 * MathVista's LLM answer extractor on any OpenAI-compatible endpoint, as the official
 * get_chat_response calls it: one user message, temperature 0, max_tokens 256, the reply stripped,
 * asked again (up to `emptyRetries` times) while it is empty.
 */
export function createMathVistaExtractor(options: MathVistaExtractorOptions = {}): MathVistaExtractor {
  const { emptyRetries = 3, cacheFile, ...clientOptions } = options;
  const model = clientOptions.model ?? process.env.OPENAI_MODEL ?? MATHVISTA_DEFAULT_EXTRACTOR_MODEL;
  const client = new OpenAIChatClient({ ...clientOptions, model });
  const cache = cacheFile ? JudgmentCache.open(cacheFile) : undefined;
  return async ({ prompt, problem, signal }) => {
    const key = judgmentKey(model, prompt, 0, 0);
    const hit = (await cache)?.get(key);
    if (hit) return hit.content ?? "";
    let text = "";
    for (let attempt = 0; attempt <= emptyRetries && text === ""; attempt++) {
      const reply = await client.chat([{ role: "user", content: prompt }], {
        temperature: 0,
        maxTokens: 256,
        signal,
      });
      text = pyStrip(reply.text);
    }
    await (await cache)?.put({
      key,
      model,
      run: 0,
      temperature: 0,
      id: String(problem.pid),
      content: text,
      replyModel: model,
    });
    return text;
  };
}
