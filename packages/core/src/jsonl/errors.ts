import type { z } from "zod";

/** A bad record: the message reads `file:line: what is wrong`. */
export class RecordError extends Error {
  override name = "RecordError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
    readonly field?: string,
  ) {
    super(`${file}:${line}: ${detail}`);
  }
}

/** A line that lenient reading skipped, and why. */
export interface SkippedLine {
  file: string;
  line: number;
  message: string;
}

/** Describes the first schema violation of a record as `field "a.b" is missing` or `field "a": …`. */
export function describeIssue(error: z.ZodError, value?: unknown): { field?: string; detail: string } {
  const issue = error.issues[0];
  if (!issue) return { detail: "invalid record" };
  const field = issue.path.map(String).join(".");
  if (!field) return { detail: issue.message };
  let input: unknown = value;
  for (const key of issue.path)
    input = input == null ? undefined : (input as Record<PropertyKey, unknown>)[key];
  if (issue.code === "invalid_type" && input === undefined)
    return { field, detail: `field "${field}" is missing` };
  if (issue.code === "invalid_type") {
    const got = input === null ? "null" : Array.isArray(input) ? "array" : typeof input;
    return { field, detail: `field "${field}": expected ${issue.expected}, got ${got}` };
  }
  return { field, detail: `field "${field}": ${issue.message}` };
}
