import { EvalInputError, firstIds } from "../predictions/errors.js";
import { readData } from "../predictions/read.js";
import type { PopeQuestion } from "./score.js";

/**
 * Answers to POPE questions as predictions (`{id, response}`), from any of the formats in use: sr2se's
 * (`id`, `response`), LLaVA's answer files (`question_id`, `text`), or RUCAIBox/POPE's own (`answer` on each
 * line, no id: paired with `questions` by position, as evaluate.py pairs them, so the counts must agree).
 */
export async function readPopeAnswers(
  file: string,
  questions?: readonly PopeQuestion[],
): Promise<{ id: string; response: string }[]> {
  const { records, lines } = await readData(file);
  const out: { id: string; response: string }[] = [];
  const positional = records.every((r) => r.id === undefined && r.question_id === undefined);
  if (positional && (!questions || questions.length !== records.length)) {
    throw new EvalInputError(
      "format",
      questions
        ? `${file}: ${records.length} answers without ids for ${questions.length} questions (POPE's answer files pair by line, so the counts must agree)`
        : `${file}: answers without ids need the questions to pair them with by line`,
      [],
      file,
    );
  }
  const seen = new Set<string>();
  const duplicates: string[] = [];
  records.forEach((r, i) => {
    const where = `${file}:${lines[i]}`;
    const response = r.response ?? r.text ?? r.answer;
    if (typeof response !== "string") {
      throw new EvalInputError(
        "format",
        `${where}: field "response" is missing (or "text" / "answer")`,
        [],
        file,
      );
    }
    const id = positional
      ? ((questions as readonly PopeQuestion[])[i] as PopeQuestion).id
      : String(r.id ?? r.question_id);
    if (seen.has(id)) duplicates.push(id);
    seen.add(id);
    out.push({ id, response });
  });
  if (out.length === 0)
    throw new EvalInputError("empty", `${file}: no answers (the file is empty)`, [], file);
  if (duplicates.length > 0) {
    throw new EvalInputError(
      "duplicate",
      `${file}: ${duplicates.length} duplicate answer ids: ${firstIds(duplicates)}`,
      duplicates,
      file,
    );
  }
  return out;
}
