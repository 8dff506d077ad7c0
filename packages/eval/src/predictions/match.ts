import { extractBoxed } from "@sr2se/core";
import { EvalInputError, firstIds } from "./errors.js";

/**
 * Predictions by id, checked to cover `dataIds` exactly. Throws EvalInputError naming the first offending ids
 * when there are no predictions, duplicate ids, ids not in the data, or data ids without a prediction.
 */
export function matchPredictions<P extends { id: string }>(
  dataIds: readonly string[],
  predictions: Iterable<P>,
  options: { label?: string } = {},
): Map<string, P> {
  const label = options.label ?? "predictions";
  const byId = new Map<string, P>();
  const duplicates: string[] = [];
  for (const p of predictions) {
    if (byId.has(p.id)) duplicates.push(p.id);
    else byId.set(p.id, p);
  }
  if (byId.size === 0) throw new EvalInputError("empty", `${label}: no predictions`);
  if (duplicates.length > 0) {
    throw new EvalInputError(
      "duplicate",
      `${label}: ${duplicates.length} duplicate prediction ids: ${firstIds(duplicates)}`,
      duplicates,
    );
  }
  const known = new Set(dataIds);
  const unknown = [...byId.keys()].filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new EvalInputError(
      "unknown",
      `${label}: ${unknown.length} prediction ids not in the data: ${firstIds(unknown)}`,
      unknown,
    );
  }
  const missing = dataIds.filter((id) => !byId.has(id));
  if (missing.length > 0) {
    throw new EvalInputError(
      "missing",
      `${label}: ${missing.length} data ids have no prediction: ${firstIds(missing)}`,
      missing,
    );
  }
  return byId;
}

/** The answer part of a response: the content of the last \boxed{…} when there is one, else the whole response. */
export function answerText(response: string): string {
  return extractBoxed(response) ?? response;
}

/** The `<description>…</description>` part of a response, or the whole response when it has none. */
export function descriptionText(response: string): string {
  const a = response.indexOf("<description>");
  const b = response.indexOf("</description>");
  if (a >= 0 && b > a) return response.slice(a + "<description>".length, b);
  return response;
}
