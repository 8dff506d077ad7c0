/**
 * A seedable random generator (xoshiro128**) in pure 32-bit integer arithmetic, so the same seed gives
 * the same stream on every platform and engine. `fork(label)` derives an independent stream from the
 * seed and a label (independent of how much this stream was used); `fork()` without a label splits
 * off a new stream from the current state.
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private readonly root: number[];
  private spareNormal: number | undefined;

  constructor(seed: number | string = 0) {
    this.root = seedWords(String(seed));
    this.setWords(this.root);
  }

  private setWords(w: readonly number[]): void {
    [this.s0, this.s1, this.s2, this.s3] = w;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9;
    this.spareNormal = undefined;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform float in [lo, hi). */
  float(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer in [lo, hiExclusive), without modulo bias. */
  int(lo: number, hiExclusive: number): number {
    const range = hiExclusive - lo;
    if (!(range > 0) || !Number.isInteger(range))
      throw new RangeError(`Rng.int: empty range [${lo}, ${hiExclusive})`);
    if (range <= 0x100000000) {
      const limit = 0x100000000 - (0x100000000 % range);
      let x = this.nextU32();
      while (x >= limit) x = this.nextU32();
      return lo + (x % range);
    }
    return lo + Math.floor(this.next() * range);
  }

  /** A normal deviate (Box–Muller). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** A uniformly chosen element. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Rng.choice: empty array");
    return items[this.int(0, items.length)];
  }

  /** Shuffles the array in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** k distinct elements in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    if (k > items.length) throw new RangeError(`Rng.sample: k=${k} exceeds ${items.length} items`);
    return this.shuffle(items.slice()).slice(0, k);
  }

  /** An index drawn with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0)) throw new RangeError("Rng.weighted: weights must be non-negative numbers");
      total += w;
    }
    if (total <= 0) throw new RangeError("Rng.weighted: weights sum to zero");
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i];
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** An independent stream: from the seed and `label` if given, else split from the current state. */
  fork(label?: string | number): Rng {
    const child = Object.create(Rng.prototype) as Rng;
    const words =
      label === undefined
        ? seedWords(`${this.nextU32()}:${this.nextU32()}:${this.nextU32()}:${this.nextU32()}`)
        : seedWords(`${this.root.join(",")}/${label}`);
    (child as unknown as { root: number[] }).root = words;
    child.setWords(words);
    return child;
  }

  /** The full state as a string, for checkpoints. */
  getState(): string {
    return [this.root.join(","), this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0].join(";");
  }

  /** A generator restored from `getState()`. */
  static fromState(state: string): Rng {
    const parts = state.split(";");
    if (parts.length !== 5) throw new Error(`Rng.fromState: malformed state "${state}"`);
    const rng = Object.create(Rng.prototype) as Rng;
    (rng as unknown as { root: number[] }).root = parts[0].split(",").map(Number);
    rng.setWords(parts.slice(1).map((x) => Number(x) | 0));
    return rng;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Four 32-bit words from a string seed (cyrb128 mixing, then splitmix32 to spread them). */
function seedWords(seed: string): number[] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < seed.length; i++) {
    const k = seed.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  let state = (h1 ^ h2 ^ h3 ^ h4) >>> 0;
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    out.push((z ^ (z >>> 16)) | 0);
  }
  return out;
}
