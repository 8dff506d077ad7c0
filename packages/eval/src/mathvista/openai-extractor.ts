import { OpenAIChatClient, type OpenAIChatClientOptions } from "@sr2se/core";
import type { MathVistaExtractor } from "./extract-answer.js";
import { pyStrip } from "./python-number.js";

/** The model MathVista's README names for answer extraction. */
export const MATHVISTA_DEFAULT_EXTRACTOR_MODEL = "gpt-4-0613";

/**
 * MathVista's LLM answer extractor on any OpenAI-compatible endpoint, as the official
 * get_chat_response calls it: one user message, temperature 0, max_tokens 256, the reply stripped,
 * asked again (up to `emptyRetries` times) while it is empty.
 */
export function createMathVistaExtractor(
  options: OpenAIChatClientOptions & { emptyRetries?: number } = {},
): MathVistaExtractor {
  const { emptyRetries = 3, ...clientOptions } = options;
  const model = clientOptions.model ?? process.env.OPENAI_MODEL ?? MATHVISTA_DEFAULT_EXTRACTOR_MODEL;
  const client = new OpenAIChatClient({ ...clientOptions, model });
  return async ({ prompt }) => {
    for (let attempt = 0; attempt <= emptyRetries; attempt++) {
      const reply = await client.chat([{ role: "user", content: prompt }], {
        temperature: 0,
        maxTokens: 256,
      });
      const text = pyStrip(reply.text);
      if (text !== "") return text;
    }
    return "";
  };
}
