// Answering every question of a dataset or benchmark file and writing DESIGN.md's Prediction
// records, batched, with progress, resumable (records already in the output file are skipped).
import { createProgress, JsonlWriter, type Message, type Prediction } from "@sr2se/core";
import { mapLimit } from "@sr2se/data";
import { readQuestions } from "../data/questions.js";
import type { VLM, VlmGenerateOptions } from "../vlm.js";

/** Options of a prediction run. */
export interface PredictOptions extends VlmGenerateOptions {
  /** Progress on stderr (default true). */
  progress?: boolean;
  /** A system prompt before each question. */
  system?: string;
  /**
   * Answers a batch in place of `vlm.generateFromPixels` (early exit, for one), returning each
   * answer's Prediction fields.
   */
  answer?: (
    requests: { messages: Message[]; pixels: Float32Array }[],
  ) => Promise<{ response: string; tokens?: number; exit_level?: number; confidence?: number }[]>;
}

/** Answers every question of `file` not yet in `out`; resolves to the counts written and skipped. */
export async function predictFile(
  vlm: VLM,
  file: string,
  out: string,
  opts: PredictOptions = {},
): Promise<{ written: number; skipped: number }> {
  const questions = await readQuestions(file);
  const writer = await JsonlWriter.open<Prediction>(out, { batchSize: 64 });
  const todo = questions.filter((q) => !writer.has(q.id));
  const progress =
    opts.progress === false
      ? null
      : createProgress({ label: "predict", total: questions.length, unit: "answers" });
  progress?.update(questions.length - todo.length);
  const batchSize = Math.max(1, opts.batchSize ?? 32);
  let written = 0;
  try {
    for (let s = 0; s < todo.length; s += batchSize) {
      const chunk = todo.slice(s, s + batchSize);
      const pixels = await mapLimit(chunk, 8, (q) =>
        vlm
          .pixelsOf(q.image)
          .catch((err: Error) => Promise.reject(new Error(`${file}:${q.line}: ${err.message}`))),
      );
      const messages = (q: (typeof chunk)[number]) => [
        ...(opts.system ? [{ role: "system" as const, content: opts.system }] : []),
        { role: "user" as const, content: q.question },
      ];
      const requests = chunk.map((q, i) => ({ messages: messages(q), pixels: pixels[i] }));
      const answers = opts.answer
        ? await opts.answer(requests)
        : (await vlm.generateFromPixels(requests, { ...opts, batchSize })).map((g) => ({
            response: g.text,
            tokens: g.tokens,
          }));
      for (let i = 0; i < chunk.length; i++) {
        await writer.append({ id: chunk[i].id, ...answers[i] });
        written++;
      }
      progress?.tick(chunk.length);
    }
  } finally {
    await writer.close();
    progress?.stop();
  }
  return { written, skipped: questions.length - todo.length };
}
