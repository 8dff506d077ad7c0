import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Sample } from "@sr2se/core";

/** A response in the sr2se format. */
export function respond(description: string, answer: string, think = "Reading the description."): string {
  return `<description>${description}</description>\n<think>${think}</think>\n\\boxed{${answer}}`;
}

/** A fresh temporary folder. */
export function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "ipr-test-"));
}

/** The records of a JSONL file. */
export async function readLines<T = Record<string, unknown>>(file: string): Promise<T[]> {
  const text = await readFile(file, "utf8");
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);
}

/** The sample whose question the first user message of a request carries (questions hold the id). */
export function sampleIdOf(text: string): string | undefined {
  return /\[(s-[\w-]+)\]/.exec(text)?.[1];
}

/** A sample whose question names its id, so a scripted policy can tell samples apart. */
export function sample(id: string, answer: string, extra: Partial<Sample> = {}): Sample {
  return {
    id,
    image: `images/${id}.png`,
    question: `[${id}] How many circles are there?`,
    answer,
    answer_type: "integer",
    ...extra,
  };
}
