/** One MM-Vet sample as in mm-vet.json (keyed by id there; `id` set from the key). */
export interface MmVetSample {
  id: string;
  question: string;
  /** Ground truth; `<AND>` joins elements that must all appear, `<OR>` alternatives. */
  answer: string;
  /** Capabilities the sample tests (rec, ocr, know, gen, spat, math). */
  capability: string[];
  imagename?: string;
  /** Scene objects of a shapes-world sample, for the deterministic judge. */
  objects?: { shape: string; color: string; size?: string; cell?: [number, number] }[];
  [key: string]: unknown;
}

/** "official" reproduces mm-vet_evaluator.py, quirks included; "robust" fixes them (see README). */
export type MmVetMode = "official" | "robust";
