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

/**
 * Answers every question of `file` not yet in `out`; resolves to the counts written and skipped. A
 * question whose image fails to load is left out of its batch (the others are answered and written),
 * and the run then rejects naming each such question's file:line.
 */
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
  // a question whose image cannot be read fails alone: the rest of its batch is answered and written
  const failed: string[] = [];
  try {
    for (let s = 0; s < todo.length; s += batchSize) {
      const batch = todo.slice(s, s + batchSize);
      const loaded = await mapLimit(batch, 8, (q) =>
        vlm.pixelsOf(q.image).then(
          (pixels) => ({ q, pixels }),
          (err: Error) => {
            failed.push(`${file}:${q.line}: ${err.message}`);
            return undefined;
          },
        ),
      );
      const chunk = loaded.filter((x) => x !== undefined);
      const messages = (q: (typeof chunk)[number]["q"]) => [
        ...(opts.system ? [{ role: "system" as const, content: opts.system }] : []),
        { role: "user" as const, content: q.question },
      ];
      const requests = chunk.map(({ q, pixels }) => ({ messages: messages(q), pixels }));
      const answers =
        requests.length === 0
          ? []
          : opts.answer
            ? await opts.answer(requests)
            : (await vlm.generateFromPixels(requests, { ...opts, batchSize })).map((g) => ({
                response: g.text,
                tokens: g.tokens,
              }));
      for (let i = 0; i < chunk.length; i++) {
        await writer.append({ id: chunk[i].q.id, ...answers[i] });
        written++;
      }
      progress?.tick(batch.length);
    }
  } finally {
    await writer.close();
    progress?.stop();
  }
  if (failed.length > 0)
    throw new Error(
      `${failed.length} of ${todo.length} questions failed and have no answer (the ${written} others are written to ${out}; a rerun answers only what is missing):\n${failed.slice(0, 10).join("\n")}${failed.length > 10 ? `\n… and ${failed.length - 10} more` : ""}`,
    );
  return { written, skipped: questions.length - todo.length };
}
