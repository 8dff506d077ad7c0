/** One MathVista problem as in the benchmark's testmini.json / Hugging Face rows (extra keys kept). */
export interface MathVistaProblem {
  pid: string;
  question: string;
  /** The prompt the model saw; the LLM extractor quotes it (falls back to `question`). */
  query?: string;
  choices?: string[] | null;
  unit?: string | null;
  /** Decimal places of a float answer (MathVista stores 1.0, 2.0...). */
  precision?: number | string | null;
  answer: unknown;
  question_type: string;
  answer_type: string;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** "official" reproduces MathVista's scripts, quirks included; "robust" fixes them (see README). */
export type ScoringMode = "official" | "robust";
