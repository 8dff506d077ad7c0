// The tests' seeded data, free of any import so that the browser page's cases can use it too.

/** Deterministic pseudo-random floats in [lo, hi) from a xorshift32 generator. */
export function rand(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + (s / 4294967296) * (hi - lo);
  }
  return out;
}
