// Deterministic memory: buffers are released when the last tensor viewing them is disposed, never by
// the garbage collector. `tidy` scopes dispose what they made unless it is returned or kept.
import type { Backend, BufferHandle } from "./backend/backend.js";
import { dtypeBytes } from "./backend/backend.js";

/** A backend buffer shared by a tensor and its views, released when its last user lets go. */
export class Storage {
  refs = 1;
  readonly bytes: number;
  constructor(
    readonly backend: Backend,
    public buffer: BufferHandle,
  ) {
    this.bytes = buffer.size * dtypeBytes(buffer.dtype);
    stats.bytes += this.bytes;
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) {
      this.backend.release(this.buffer);
      stats.bytes -= this.bytes;
    }
  }
}

const stats = { tensors: 0, bytes: 0 };

/** Something a tidy scope can dispose. */
export interface Disposable {
  readonly isDisposed: boolean;
  dispose(): void;
  /** Internal tensors (saved for backward) are never tracked. */
  readonly _internal: boolean;
  _scope: Set<Disposable> | null;
}

const scopes: Set<Disposable>[] = [];

/** Registers a newly made tensor with the innermost tidy scope and the live count. */
export function track(t: Disposable): void {
  if (t._internal) return;
  stats.tensors++;
  const top = scopes[scopes.length - 1];
  if (top) {
    top.add(t);
    t._scope = top;
  }
}

/** Updates the live count when a tracked tensor is disposed. */
export function untrack(t: Disposable): void {
  if (t._internal) return;
  stats.tensors--;
  t._scope?.delete(t);
  t._scope = null;
}

/** Returns the live tensor count and the bytes held by live buffers, now. */
export function memory(): { tensors: number; bytes: number } {
  return { tensors: stats.tensors, bytes: stats.bytes };
}

/** Marks a tensor as kept: no tidy scope will dispose it (the caller must). Returns it. */
export function keep<T extends Disposable>(t: T): T {
  t._scope?.delete(t);
  t._scope = null;
  return t;
}

function collect(value: unknown, out: Set<unknown>, depth = 0): void {
  if (value === null || typeof value !== "object" || depth > 6) return;
  if ("_scope" in (value as object) && "dispose" in (value as object)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value as object)) collect(v, out, depth + 1);
}

/**
 * Runs fn and returns its result; every tensor made inside is disposed at the end unless it is part
 * of the result (tensors in returned arrays or plain objects count) or was `keep`-ed.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) {
    throw new Error("tidy: fn returned a Promise; tidy scopes are synchronous (await outside tidy)");
  }
  const kept = new Set<unknown>();
  collect(result, kept);
  const parent = scopes[scopes.length - 1] ?? null;
  for (const t of scope) {
    if (kept.has(t)) {
      t._scope = parent;
      parent?.add(t);
    } else if (!t.isDisposed) t.dispose();
  }
  return result;
}
