import type { Question, Solution } from "../shapes/questions.js";

/** An MMMU-style problem: MMMU's fields (`id`, `question` with an `<image 1>` tag, `options`, `answer`, `question_type`, `subject`). */
export interface MmmuProblem {
  id: string;
  question: string;
  /** The options in order; empty for open questions. */
  options: string[];
  /** The option letter for multiple choice, the gold text for open questions. */
  answer: string;
  question_type: "multiple-choice" | "open";
  subject: string;
  image_1: string;
  topic_difficulty: "Easy" | "Medium" | "Hard";
  explanation: string;
}

/** The MMMU subject of each question family. */
export const MMMU_SUBJECTS: Readonly<Record<string, string>> = {
  existence: "Existence",
  count: "Counting",
  arithmetic: "Arithmetic",
  attribute: "Attributes",
  position: "Position",
  spatial: "Spatial_Relations",
};

const DIFFICULTY = ["Easy", "Easy", "Medium", "Hard"] as const;
const LETTERS = "ABCDEFGHI";

/**
 * The MMMU-style form of a shapes-world question. Yes/no questions become two-option multiple
 * choice; counts and sums are open questions; `n` numbers problems within the subject.
 */
export function toMmmu(q: Question, gold: Solution, image: string, n: number): MmmuProblem {
  const subject = MMMU_SUBJECTS[q.family] ?? "General";
  let options: string[] = [];
  let answer = gold.answer;
  let type: MmmuProblem["question_type"] = "open";
  if (q.choices) {
    options = q.choices;
    type = "multiple-choice";
  } else if (q.answerType === "yes_no") {
    options = ["yes", "no"];
    answer = LETTERS[options.indexOf(gold.answer)];
    type = "multiple-choice";
  }
  return {
    id: `validation_${subject}_${n}`,
    question: `<image 1> ${q.stem}`,
    options,
    answer,
    question_type: type,
    subject,
    image_1: image,
    topic_difficulty: DIFFICULTY[q.difficulty] ?? "Medium",
    explanation: gold.reasoning,
  };
}
