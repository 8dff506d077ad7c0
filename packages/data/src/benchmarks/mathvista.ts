import type { Question, Solution } from "../shapes/questions.js";

/** A MathVista-style problem with MathVista's fields (testmini layout). */
export interface MathVistaProblem {
  pid: string;
  question: string;
  image: string;
  choices: string[] | null;
  unit: string | null;
  precision: number | null;
  /** For multi_choice the text of the right choice (MathVista stores the text, not the letter). */
  answer: string;
  question_type: "multi_choice" | "free_form";
  answer_type: "integer" | "text";
  metadata: {
    category: string;
    context: string;
    grade: string;
    img_height: number;
    img_width: number;
    language: string;
    skills: string[];
    source: string;
    split: string;
    task: string;
  };
  query: string;
}

/** MathVista's hint and question layout (`build_query`) for a problem. */
export function mathVistaQuery(
  question: string,
  choices: string[] | null,
  answerType: "integer" | "text",
): string {
  if (choices) {
    const letters = choices.map((c, i) => `(${String.fromCharCode(65 + i)}) ${c}`).join("\n");
    return `Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.\nQuestion: ${question}\nChoices:\n${letters}`;
  }
  if (answerType === "integer")
    return `Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.\nQuestion: ${question}`;
  return `Hint: Please answer the question and provide the final answer at the end.\nQuestion: ${question}`;
}

/** The MathVista-style form of a counting or arithmetic question; `pid` numbers it. */
export function toMathVista(
  q: Question,
  gold: Solution,
  image: string,
  size: number,
  pid: number,
): MathVistaProblem {
  const multi = q.choices !== null;
  const answer = multi ? (q.choices as string[])["ABCDEFGHI".indexOf(gold.answer)] : gold.answer;
  const answerType = multi ? "text" : "integer";
  const skills =
    q.family === "count"
      ? ["arithmetic reasoning"]
      : multi
        ? ["arithmetic reasoning", "logical reasoning"]
        : ["arithmetic reasoning", "algebraic reasoning"];
  return {
    pid: String(pid),
    question: q.stem,
    image,
    choices: q.choices,
    unit: null,
    precision: null,
    answer,
    question_type: multi ? "multi_choice" : "free_form",
    answer_type: answerType,
    metadata: {
      category: "math-targeted-vqa",
      context: "synthetic scene",
      grade: "elementary school",
      img_height: size,
      img_width: size,
      language: "english",
      skills,
      source: "sr2se-shapes",
      split: "testmini",
      task: q.family === "count" ? "visual question answering" : "math word problem",
    },
    query: mathVistaQuery(q.stem, q.choices, answerType),
  };
}
