// Answering every question of a dataset or benchmark file and writing DESIGN.md's Prediction
// records, batched, with progress, resumable (records already in the output file are skipped).
import { createProgress, JsonlWriter, type Message, type Prediction } from "@sr2se/core";
import { mapLimit } from "@sr2se/data";
import { type QuestionRecord, readQuestions } from "../data/questions.js";
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
 * Answers `questions` in batches, handing each Prediction to `emit` as its batch is answered and
 * calling `onBatch` with each batch's size; resolves to a `source:line: message` for each question
 * whose image failed to load (those are left out of their batch and get no answer).
 */
export async function answerQuestions(
  vlm: VLM,
  questions: QuestionRecord[],
  source: string,
  emit: (prediction: Prediction) => Promise<void>,
  opts: PredictOptions & { onBatch?: (size: number) => void } = {},
): Promise<string[]> {
  const batchSize = Math.max(1, opts.batchSize ?? 32);
  const failed: string[] = [];
  for (let s = 0; s < questions.length; s += batchSize) {
    const batch = questions.slice(s, s + batchSize);
    const loaded = await mapLimit(batch, 8, (q) =>
      vlm.pixelsOf(q.image).then(
        (pixels) => ({ q, pixels }),
        (err: Error) => {
          failed.push(`${source}:${q.line}: ${err.message}`);
          return undefined;
        },
      ),
    );
    const chunk = loaded.filter((x) => x !== undefined);
    const messages = (q: QuestionRecord) => [
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
    for (let i = 0; i < chunk.length; i++) await emit({ id: chunk[i].q.id, ...answers[i] });
    opts.onBatch?.(batch.length);
  }
  return failed;
}

/** Returns the error of a run in which `failed` questions (of `todo`) got no answer. */
export function unansweredError(failed: string[], todo: number, written: number, out: string): Error {
  return new Error(
    `${failed.length} of ${todo} questions failed and have no answer (the ${written} others are written to ${out}; a rerun answers only what is missing):\n${failed.slice(0, 10).join("\n")}${failed.length > 10 ? `\n… and ${failed.length - 10} more` : ""}`,
  );
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
  let written = 0;
  let failed: string[];
  try {
    failed = await answerQuestions(
      vlm,
      todo,
      file,
      async (p) => {
        await writer.append(p);
        written++;
      },
      { ...opts, onBatch: (n) => progress?.tick(n) },
    );
  } finally {
    await writer.close();
    progress?.stop();
  }
  if (failed.length > 0) throw unansweredError(failed, todo.length, written, out);
  return { written, skipped: questions.length - todo.length };
}
