// A bounded pool over a list: the shape of every "grade these N samples, 4 at a time" loop.

/**
 * Runs `fn` over `items`, at most `limit` at once, and returns the results in the items' order.
 * The first error stops the pool: no item starts after it, the `signal` handed to the calls in
 * flight is aborted (pass it to fetch or a client), and once they have settled the error is
 * thrown. A failing endpoint is thus asked at most `limit` more times, not once per item.
 */
export async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<R>,
): Promise<R[]> {
  if (!(limit >= 1)) throw new RangeError(`mapPool: limit must be at least 1, got ${limit}`);
  const out = new Array<R>(items.length);
  const controller = new AbortController();
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T, i, controller.signal);
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
          controller.abort(err);
        }
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw firstError;
  return out;
}
