import { isFatalEndpointError } from "@sr2se/core";
import { pyFloat, pyFloatRepr, pyInt } from "./python-number.js";
import type { MathVistaProblem } from "./types.js";

/**
 * The few-shot prompt of MathVista's LLM answer extractor (evaluation/prompts/ext_ans.py,
 * lupantech/MathVista), verbatim: the extractor sees it, then the query and the response.
 */
export const MATHVISTA_DEMO_PROMPT = `
Please read the following example. Then extract the answer from the model response and type it at the end of the prompt.

Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.
Question: Which number is missing?

Model response: The number missing in the sequence is 14.

Extracted answer: 14

Hint: Please answer the question requiring a floating-point number with one decimal place and provide the final value, e.g., 1.2, 1.3, 1.4, at the end.
Question: What is the fraction of females facing the camera?

Model response: The fraction of females facing the camera is 0.6, which means that six out of ten females in the group are facing the camera.

Extracted answer: 0.6

Hint: Please answer the question requiring a floating-point number with two decimal places and provide the final value, e.g., 1.23, 1.34, 1.45, at the end.
Question: How much money does Luca need to buy a sour apple candy and a butterscotch candy? (Unit: $)

Model response: Luca needs $1.45 to buy a sour apple candy and a butterscotch candy.

Extracted answer: 1.45

Hint: Please answer the question requiring a Python list as an answer and provide the final list, e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.
Question: Between which two years does the line  graph saw its maximum peak?

Model response: The line graph saw its maximum peak between 2007 and 2008.

Extracted answer: [2007, 2008]

Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.
Question: What fraction of the shape is blue?
Choices:
(A) 3/11
(B) 8/11
(C) 6/11
(D) 3/5

Model response: The correct answer is (B) 8/11.

Extracted answer: B
`;

/** The full prompt MathVista's extractor sends: demo prompt (trimmed), query, response, "Extracted answer: ". */
export function createTestPrompt(demoPrompt: string, query: string, response: string): string {
  return `${demoPrompt.trim()}\n\n${query}\n\n${response}\n\nExtracted answer: `;
}

/** What an LLM extractor receives when MathVista's rules find no answer. */
export interface MathVistaExtractRequest {
  /** createTestPrompt(MATHVISTA_DEMO_PROMPT, query, response): what the official script sends to GPT. */
  prompt: string;
  problem: MathVistaProblem;
  response: string;
  /** Aborted when the scoring stops (another problem's fatal error): pass it to the request. */
  signal?: AbortSignal;
}

/** An answer extractor (an LLM in the official pipeline); returns the extracted answer text. */
export type MathVistaExtractor = (request: MathVistaExtractRequest) => Promise<string>;

/** Which branch of extract_answer produced an extraction. */
export type ExtractionMethod =
  | "empty"
  | "choice"
  | "integer"
  | "float"
  | "quick"
  | "llm"
  | "llm-error"
  | "none";

export interface Extraction {
  extraction: string;
  method: ExtractionMethod;
  /** The extractor's error message where it threw (the official script prints it and extracts ""). */
  error?: string;
}

/**
 * The rule-based branches of MathVista's extract_answer, in order: empty response, a response that
 * is one of the choices, int(response) for integers, str(float(response)) for floats, and (with
 * quickExtract) `The answer is "…".`; null where no rule applies.
 */
export function extractAnswerByRules(
  response: string,
  problem: Pick<MathVistaProblem, "question_type" | "answer_type" | "choices">,
  options: { quickExtract?: boolean } = {},
): Extraction | null {
  if (response === "") return { extraction: "", method: "empty" };
  if (problem.question_type === "multi_choice" && problem.choices?.includes(response)) {
    return { extraction: response, method: "choice" };
  }
  if (problem.answer_type === "integer") {
    const n = pyInt(response);
    if (n !== null) return { extraction: n.toString(), method: "integer" };
  }
  if (problem.answer_type === "float") {
    const x = pyFloat(response);
    if (x !== null) return { extraction: pyFloatRepr(x), method: "float" };
  }
  if (options.quickExtract) {
    // Python's `.` stops only at \n, JavaScript's also at \r, \u2028 and \u2029.
    const m = /The answer is "([^\n]*)"\./.exec(response);
    if (m) return { extraction: m[1] as string, method: "quick" };
  }
  return null;
}

/**
 * MathVista's extract_answer: the rules, then the LLM extractor where they find nothing; "" when
 * there is no extractor or it fails (as the official script does when its GPT call fails).
 */
export async function extractAnswer(
  response: string,
  problem: MathVistaProblem,
  options: { quickExtract?: boolean; extractor?: MathVistaExtractor; signal?: AbortSignal } = {},
): Promise<Extraction> {
  const byRules = extractAnswerByRules(response, problem, options);
  if (byRules) return byRules;
  if (!options.extractor) return { extraction: "", method: "none" };
  const query = typeof problem.query === "string" ? problem.query : problem.question;
  const prompt = createTestPrompt(MATHVISTA_DEMO_PROMPT, query, response);
  try {
    return {
      extraction: await options.extractor({ prompt, problem, response, signal: options.signal }),
      method: "llm",
    };
  } catch (err) {
    // an endpoint that refuses every request (bad key, no such model, retries spent) stops the scoring
    if (isFatalEndpointError(err) || options.signal?.aborted) throw err;
    return { extraction: "", method: "llm-error", error: err instanceof Error ? err.message : String(err) };
  }
}
