import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import path from "node:path";
import { RecordError } from "../jsonl/errors.js";

/** Where a path was read from: a record's file, line and field, for `file:line: field "image": …` errors. */
export interface PathSource {
  file: string;
  line: number;
  /** The record's field that holds the path (default "image"). */
  field?: string;
}

/** A path a dataset names that resolves outside the dataset folder. */
export class DatasetPathError extends Error {
  override name = "DatasetPathError";
  constructor(
    /** The path as the dataset wrote it. */
    readonly value: string,
    /** The dataset folder. */
    readonly root: string,
    detail: string,
  ) {
    super(`"${value}" ${detail}`);
  }
}

/**
 * Returns the absolute path of `value`, a path relative to the dataset folder `root`. Refuses an
 * absolute path, one that climbs out with `..`, and one whose real location (symlinks followed, as
 * far as the path exists) is outside the real dataset folder: a dataset file must not make us read,
 * or send to an endpoint, a file it does not ship. Throws `DatasetPathError`, or with `source` a
 * `RecordError` reading `file:line: field "image": "../x.png" leaves the dataset folder`.
 */
export function resolveDatasetPath(root: string, value: string, source?: PathSource): string {
  try {
    return resolveInside(path.resolve(root), value);
  } catch (err) {
    if (!source || !(err instanceof DatasetPathError)) throw err;
    const field = source.field ?? "image";
    throw new RecordError(source.file, source.line, `field "${field}": ${err.message}`, field);
  }
}

function resolveInside(root: string, value: string): string {
  if (path.isAbsolute(value) || path.win32.isAbsolute(value))
    throw new DatasetPathError(value, root, "leaves the dataset folder (an absolute path)");
  const abs = path.resolve(root, value);
  if (!inside(root, abs)) throw new DatasetPathError(value, root, "leaves the dataset folder");
  const realRoot = realpathOrSelf(root);
  const real = realpathOfExisting(abs);
  if (!inside(realRoot, real))
    throw new DatasetPathError(value, root, `leaves the dataset folder (through a symlink, to ${real})`);
  return abs;
}

/** True when `p` is strictly below `root` (both absolute). */
function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== "" && !rel.startsWith(`..${path.sep}`) && rel !== ".." && !path.isAbsolute(rel);
}

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The real path of `p`: of its longest existing prefix, with the missing rest appended. */
function realpathOfExisting(p: string): string {
  const rest: string[] = [];
  let head = p;
  for (;;) {
    try {
      return path.join(realpathSync(head), ...rest.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = path.dirname(head);
      if ((code !== "ENOENT" && code !== "ENOTDIR") || parent === head) return p;
      const target = danglingTarget(head);
      // A symlink whose target does not exist yet still says where reading it would go.
      if (target !== undefined) return path.join(realpathOfExisting(target), ...rest.reverse());
      rest.push(path.basename(head));
      head = parent;
    }
  }
}

/** Where a symlink that points at nothing would lead, or undefined when `p` is not a symlink. */
function danglingTarget(p: string): string | undefined {
  try {
    if (!lstatSync(p).isSymbolicLink()) return undefined;
    return path.resolve(path.dirname(p), readlinkSync(p));
  } catch {
    return undefined;
  }
}
