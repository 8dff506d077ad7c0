/** What is wrong with an evaluation input. */
export type EvalInputKind = "empty" | "missing" | "duplicate" | "unknown" | "format";

/** Bad evaluation input: the message names the file (or scorer) and the first offending ids. */
export class EvalInputError extends Error {
  override name = "EvalInputError";
  constructor(
    readonly kind: EvalInputKind,
    message: string,
    readonly ids: string[] = [],
    readonly file?: string,
  ) {
    super(message);
  }
}

/** The first `max` ids joined by ", ", with "… (N in all)" when there are more. */
export function firstIds(ids: readonly string[], max = 5): string {
  const shown = ids.slice(0, max).join(", ");
  return ids.length > max ? `${shown}, … (${ids.length} in all)` : shown;
}
