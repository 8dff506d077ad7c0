// Fused row kernels of the reference backend: softmax, cross entropy, LayerNorm/RMSNorm, AdamW.
// Inputs arrive contiguous (the backend copies strided views first); rows are the last axis.
import type { AdamWParams, TypedArray } from "../backend.js";

/** Writes softmax (or log-softmax) of each length-C row of x into out. */
export function softmaxRows(
  x: TypedArray,
  xo: number,
  rows: number,
  C: number,
  log: boolean,
  out: TypedArray,
): void {
  for (let r = 0; r < rows; r++) {
    const base = xo + r * C;
    const ob = r * C;
    let m = -Infinity;
    for (let c = 0; c < C; c++) if (x[base + c] > m) m = x[base + c];
    if (m === -Infinity) m = 0;
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x[base + c] - m);
    if (log) {
      const lse = m + Math.log(s);
      for (let c = 0; c < C; c++) out[ob + c] = x[base + c] - lse;
    } else {
      const inv = 1 / s;
      for (let c = 0; c < C; c++) out[ob + c] = Math.exp(x[base + c] - m) * inv;
    }
  }
}

/** Writes dx of softmax (y = probabilities) or log-softmax (y = log-probabilities) rows. */
export function softmaxBackwardRows(
  y: TypedArray,
  yo: number,
  dy: TypedArray,
  dyo: number,
  rows: number,
  C: number,
  log: boolean,
  out: TypedArray,
): void {
  for (let r = 0; r < rows; r++) {
    const yb = yo + r * C;
    const gb = dyo + r * C;
    const ob = r * C;
    if (log) {
      let s = 0;
      for (let c = 0; c < C; c++) s += dy[gb + c];
      for (let c = 0; c < C; c++) out[ob + c] = dy[gb + c] - Math.exp(y[yb + c]) * s;
    } else {
      let s = 0;
      for (let c = 0; c < C; c++) s += dy[gb + c] * y[yb + c];
      for (let c = 0; c < C; c++) out[ob + c] = y[yb + c] * (dy[gb + c] - s);
    }
  }
}

function rowLse(x: TypedArray, base: number, C: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) if (x[base + c] > m) m = x[base + c];
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(x[base + c] - m);
  return m + Math.log(s);
}

/** Writes per-row cross-entropy losses and logsumexps; throws on a target outside [0, C). */
export function crossEntropyRows(
  x: TypedArray,
  xo: number,
  target: TypedArray,
  to: number,
  N: number,
  C: number,
  ignoreIndex: number,
  eps: number,
  loss: TypedArray,
  lseOut: TypedArray,
): void {
  for (let r = 0; r < N; r++) {
    const base = xo + r * C;
    const t = target[to + r];
    const lse = rowLse(x, base, C);
    lseOut[r] = lse;
    if (t === ignoreIndex) {
      loss[r] = 0;
      continue;
    }
    if (t < 0 || t >= C || !Number.isInteger(t)) {
      throw new RangeError(`crossEntropy: target ${t} at row ${r} is outside [0, ${C})`);
    }
    let l = lse - x[base + t];
    if (eps > 0) {
      let s = 0;
      for (let c = 0; c < C; c++) s += lse - x[base + c];
      l = (1 - eps) * l + (eps * s) / C;
    }
    loss[r] = l;
  }
}

/** Writes dlogits rows: dLoss·(softmax − (1−ε)·onehot − ε/C), zero rows where ignored. */
export function crossEntropyBackwardRows(
  x: TypedArray,
  xo: number,
  target: TypedArray,
  to: number,
  lse: TypedArray,
  lo: number,
  dLoss: TypedArray,
  dlo: number,
  dls: number,
  N: number,
  C: number,
  ignoreIndex: number,
  eps: number,
  out: TypedArray,
): void {
  for (let r = 0; r < N; r++) {
    const base = xo + r * C;
    const ob = r * C;
    const t = target[to + r];
    if (t === ignoreIndex) {
      out.fill(0, ob, ob + C);
      continue;
    }
    const g = dLoss[dlo + r * dls];
    const l = lse[lo + r];
    const off = eps / C;
    for (let c = 0; c < C; c++) out[ob + c] = g * (Math.exp(x[base + c] - l) - off);
    out[ob + t] -= g * (1 - eps);
  }
}

/** LayerNorm/RMSNorm forward over rows of length D. */
export function normRows(
  x: TypedArray,
  xo: number,
  R: number,
  D: number,
  w: TypedArray | null,
  wo: number,
  b: TypedArray | null,
  bo: number,
  eps: number,
  rms: boolean,
  out: TypedArray,
  mean: TypedArray,
  rstd: TypedArray,
): void {
  for (let r = 0; r < R; r++) {
    const base = xo + r * D;
    const ob = r * D;
    let mu = 0;
    if (!rms) {
      for (let i = 0; i < D; i++) mu += x[base + i];
      mu /= D;
      mean[r] = mu;
    }
    let v = 0;
    for (let i = 0; i < D; i++) {
      const d = x[base + i] - mu;
      v += d * d;
    }
    const rs = 1 / Math.sqrt(v / D + eps);
    rstd[r] = rs;
    for (let i = 0; i < D; i++) {
      let y = (x[base + i] - mu) * rs;
      if (w) y *= w[wo + i];
      if (b) y += b[bo + i];
      out[ob + i] = y;
    }
  }
}

/** LayerNorm/RMSNorm backward; dWeight/dBias (when given) are overwritten with the column sums. */
export function normBackwardRows(
  x: TypedArray,
  xo: number,
  R: number,
  D: number,
  w: TypedArray | null,
  wo: number,
  mean: TypedArray,
  mo: number,
  rstd: TypedArray,
  ro: number,
  dy: TypedArray,
  dyo: number,
  rms: boolean,
  dx: TypedArray,
  dw: TypedArray | null,
  db: TypedArray | null,
): void {
  const dwAcc = dw ? new Float64Array(D) : null;
  const dbAcc = db ? new Float64Array(D) : null;
  for (let r = 0; r < R; r++) {
    const base = xo + r * D;
    const gb = dyo + r * D;
    const mu = rms ? 0 : mean[mo + r];
    const rs = rstd[ro + r];
    let sg = 0;
    let sgx = 0;
    for (let i = 0; i < D; i++) {
      const xhat = (x[base + i] - mu) * rs;
      const g = dy[gb + i] * (w ? w[wo + i] : 1);
      sg += g;
      sgx += g * xhat;
      if (dwAcc) dwAcc[i] += dy[gb + i] * xhat;
      if (dbAcc) dbAcc[i] += dy[gb + i];
    }
    sg /= D;
    sgx /= D;
    const ob = r * D;
    for (let i = 0; i < D; i++) {
      const xhat = (x[base + i] - mu) * rs;
      const g = dy[gb + i] * (w ? w[wo + i] : 1);
      dx[ob + i] = rs * (g - (rms ? 0 : sg) - xhat * sgx);
    }
  }
  if (dw && dwAcc) for (let i = 0; i < D; i++) dw[i] = dwAcc[i];
  if (db && dbAcc) for (let i = 0; i < D; i++) db[i] = dbAcc[i];
}

/** In-place AdamW (PyTorch's algorithm: decoupled decay, bias-corrected moments). */
export function adamwUpdate(
  p: TypedArray,
  g: TypedArray,
  go: number,
  m: TypedArray,
  v: TypedArray,
  n: number,
  h: AdamWParams,
): void {
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  const decay = 1 - h.lr * h.weightDecay;
  const stepSize = h.lr / bc1;
  const sqrtBc2 = Math.sqrt(bc2);
  const { beta1, beta2, eps } = h;
  for (let i = 0; i < n; i++) {
    const gi = g[go + i];
    const mi = beta1 * m[i] + (1 - beta1) * gi;
    const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
  }
}
