import { EvalInputError } from "../predictions/errors.js";
import { readData, recordId } from "../predictions/read.js";
import type { MmmuQuestion } from "./score.js";

/**
 * MMMU questions of a file: the Hugging Face rows as JSON/JSONL (`id`, `question_type`, `options`, `answer`),
 * the data package's MMMU-style file, or answer_dict_val.json (`{id: {question_type, ground_truth}}`).
 */
export async function readMmmuQuestions(file: string): Promise<MmmuQuestion[]> {
  const { records, lines } = await readData(file);
  return records.map((r, i) => {
    const where = lines[i] ? `${file}:${lines[i]}` : `${file}: entry ${String(r.id)}`;
    const answer = r.answer ?? r.ground_truth;
    if (answer === undefined)
      throw new EvalInputError("format", `${where}: field "answer" is missing`, [], file);
    if (
      typeof answer !== "string" &&
      !(Array.isArray(answer) && answer.every((a) => typeof a === "string"))
    ) {
      throw new EvalInputError(
        "format",
        `${where}: field "answer": expected a string or a list of strings`,
        [],
        file,
      );
    }
    if (typeof r.question_type !== "string")
      throw new EvalInputError("format", `${where}: field "question_type" is missing`, [], file);
    return { ...r, id: recordId(r, "id", where), question_type: r.question_type, answer } as MmmuQuestion;
  });
}
