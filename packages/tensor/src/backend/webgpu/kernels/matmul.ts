/// <reference types="@webgpu/types" />
import { foldInto } from "../chunked.js";
import type { MatmulVariant } from "../device.js";
import type { GpuRuntime, Kernel } from "../runtime.js";
import { PARAMS_WGSL, ParamWriter } from "./common.js";

/** How one operand's matrices sit in memory: element (r, c) at offset + batchOffset + r·rs + c·cs. */
export interface MatrixOperand {
  buffer: GPUBuffer;
  offset: number;
  /** Row and column strides of the last two dims (one of them is 1: read in place, transposed or not). */
  rs: number;
  cs: number;
  /** Strides of the batch dims (0 where broadcast), aligned with `batchShape`. */
  batchStrides: readonly number[];
}

const MAX_BATCH_RANK = 4;
// params: 0 M, 1 N, 2 K, 3 batch, 4 batchRank, 5 aOff, 6 bOff, 7 aRs, 8 aCs, 9 bRs, 10 bCs,
// 12..15 batch shape, 16..19 a batch strides, 20..23 b batch strides
const PRELUDE = /* wgsl */ `
@group(0) @binding(1) var<storage, read_write> C: array<f32>;
@group(0) @binding(2) var<storage, read> A: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
fn batch_offsets(z: u32) -> vec2<u32> {
  var rem = z;
  var ao = pu(5u);
  var bo = pu(6u);
  let br = pu(4u);
  for (var d = 0u; d < br; d++) {
    let dd = br - 1u - d;
    let n = pu(12u + dd);
    let c = rem % n;
    rem = rem / n;
    ao += c * pu(16u + dd);
    bo += c * pu(20u + dd);
  }
  return vec2<u32>(ao, bo);
}
`;

function prelude(aVec: boolean, bVec: boolean, cVec = false): string {
  return PRELUDE.replace(
    "var<storage, read_write> C: array<f32>;",
    cVec ? "var<storage, read_write> C: array<vec4<f32>>;" : "var<storage, read_write> C: array<f32>;",
  )
    .replace(
      "var<storage, read> A: array<f32>;",
      aVec ? "var<storage, read> A: array<vec4<f32>>;" : "var<storage, read> A: array<f32>;",
    )
    .replace(
      "var<storage, read> B: array<f32>;",
      bVec ? "var<storage, read> B: array<vec4<f32>>;" : "var<storage, read> B: array<f32>;",
    );
}

/** Invocations per workgroup of the CPU-like matmul; each owns 4 columns of 4 shared rows. */
const RX = 16;

/**
 * Matmul for CPU-like adapters (lavapipe, SwiftShader), which run a workgroup's invocations as SIMD
 * lanes: a workgroup owns 4 rows of C, so every A element is the same for all lanes (a scalar load,
 * no gather); each invocation owns 4 adjacent columns, read as one vec4 when B's rows allow (`n4`),
 * as vec4s along K when B is transposed (`k4`), else as 4 scalars (`s`). No workgroup memory.
 */
function laneKernel(mode: "n4" | "n4v" | "k4" | "k4v" | "s"): Kernel {
  const rows = [0, 1, 2, 3];
  const aDiv = mode === "k4v" || mode === "n4v" ? " / 4u" : "";
  const aRow = rows.map((i) => `let a${i} = (bo.x + min(row0 + ${i}u, M - 1u) * ars)${aDiv};`).join("\n  ");
  let loop: string;
  if (mode === "n4v") {
    // A's rows are contiguous along K: one uniform vec4 of A per row covers four k-steps
    const comp = ["x", "y", "z", "w"];
    loop = `let cb = (bo.y + min(col0, N - 4u)) / 4u;
  let brs4 = brs / 4u;
  for (var k = 0u; k < K / 4u; k++) {
    ${rows.map((i) => `let x${i} = A[a${i} + k];`).join(" ")}
    ${[0, 1, 2, 3]
      .map(
        (t) =>
          `{ let b = B[cb + (4u * k + ${t}u) * brs4]; ${rows.map((i) => `c${i} += x${i}.${comp[t]} * b;`).join(" ")} }`,
      )
      .join("\n    ")}
  }`;
  } else if (mode === "n4") {
    loop = `let cb = (bo.y + min(col0, N - 4u)) / 4u;
  let brs4 = brs / 4u;
  for (var k = 0u; k < K; k++) {
    let b = B[cb + k * brs4];
    let ka = k * acs;
    ${rows.map((i) => `c${i} += A[a${i} + ka] * b;`).join(" ")}
  }`;
  } else if (mode === "s") {
    loop = `${rows.map((j) => `let n${j} = bo.y + min(col0 + ${j}u, N - 1u) * bcs;`).join(" ")}
  for (var k = 0u; k < K; k++) {
    let kb = k * brs;
    let b = vec4<f32>(B[n0 + kb], B[n1 + kb], B[n2 + kb], B[n3 + kb]);
    let ka = k * acs;
    ${rows.map((i) => `c${i} += A[a${i} + ka] * b;`).join(" ")}
  }`;
  } else if (mode === "k4v") {
    // A's rows are contiguous along K too: one uniform vec4 per row and 4 k-steps
    loop = `${rows.map((j) => `let n${j} = (bo.y + min(col0 + ${j}u, N - 1u) * bcs) / 4u;`).join(" ")}
  for (var k = 0u; k < K / 4u; k++) {
    let b0 = B[n0 + k]; let b1 = B[n1 + k]; let b2 = B[n2 + k]; let b3 = B[n3 + k];
    ${rows
      .map(
        (i) => `let x${i} = A[a${i} + k];
    c${i} += vec4<f32>(dot(x${i}, b0), dot(x${i}, b1), dot(x${i}, b2), dot(x${i}, b3));`,
      )
      .join("\n    ")}
  }`;
  } else {
    loop = `${rows.map((j) => `let n${j} = (bo.y + min(col0 + ${j}u, N - 1u) * bcs) / 4u;`).join(" ")}
  for (var k = 0u; k < K / 4u; k++) {
    let b0 = B[n0 + k]; let b1 = B[n1 + k]; let b2 = B[n2 + k]; let b3 = B[n3 + k];
    let k0 = 4u * k * acs;
    ${rows
      .map(
        (i) =>
          `let x${i} = vec4<f32>(A[a${i} + k0], A[a${i} + k0 + acs], A[a${i} + k0 + 2u * acs], A[a${i} + k0 + 3u * acs]);
    c${i} += vec4<f32>(dot(x${i}, b0), dot(x${i}, b1), dot(x${i}, b2), dot(x${i}, b3));`,
      )
      .join("\n    ")}
  }`;
  }
  return {
    key: `matmul.lanes.${mode}.${RX}`,
    code: () => `${PARAMS_WGSL}${prelude(mode === "k4v" || mode === "n4v", mode !== "s")}
@compute @workgroup_size(${RX})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let col0 = (wid.y * ${RX}u + lid.x) * 4u;
  if (col0 >= N) { return; }
  let row0 = wid.x * 4u;
  let bo = batch_offsets(wid.z);
  let ars = pu(7u); let acs = pu(8u); let brs = pu(9u); let bcs = pu(10u);
  ${aRow}
  var c0 = vec4<f32>(0.0); var c1 = vec4<f32>(0.0); var c2 = vec4<f32>(0.0); var c3 = vec4<f32>(0.0);
  ${loop}
  let cz = wid.z * M * N;
  let full = col0 + 4u <= N;
${rows
  .map(
    (i) => `  if (row0 + ${i}u < M) {
    let o = cz + (row0 + ${i}u) * N + col0;
    if (full) { C[o] = c${i}.x; C[o + 1u] = c${i}.y; C[o + 2u] = c${i}.z; C[o + 3u] = c${i}.w; }
    else { for (var j = 0u; j < N - col0; j++) { C[o + j] = c${i}[j]; } }
  }`,
  )
  .join("\n")}
}
`,
  };
}

/** How the subgroup kernel reads A: rows contiguous along K (`r`), or columns contiguous along M (`c`). */
type SgA = "r" | "c";
/** How the subgroup kernel reads B: rows contiguous along N (`n`), or columns contiguous along K (`k`). */
type SgB = "n" | "k";

/**
 * Matmul for CPU-like adapters with a fixed subgroup size S (lavapipe: 8), one subgroup per
 * workgroup. Such adapters run a subgroup's invocations as the SIMD lanes of one vector, and every
 * storage load costs a scalar load per lane; a broadcast costs one extract. So each lane loads vec4s
 * of a different row of the workgroup's R rows of A (or of a different k-step, when A is read along
 * M) and `subgroupBroadcast` hands every row to every lane; each lane owns 4 columns of C and loads
 * their B values itself, 4 k-steps at a time. A row's accumulator is touched once per 4 k-steps, so R
 * can exceed the register file: on lavapipe this runs about 3× the `register` kernel.
 */
function subgroupKernel(am: SgA, bm: SgB, R: number, S: number): Kernel {
  const Q = R / S;
  const rows = [...Array(R).keys()];
  const qs = [...Array(Q).keys()];
  const comp = ["x", "y", "z", "w"];
  const aLoads =
    am === "r"
      ? qs.map((q) => `let a${q} = A[ar${q} + k4];`).join(" ")
      : qs.map((q) => `let a${q} = A[ac${q} + k4 * acs];`).join(" ");
  const aSetup =
    am === "r"
      ? qs.map((q) => `let ar${q} = (bo.x + min(row0 + ${q * S}u + L, M - 1u) * ars) / 4u;`).join("\n  ")
      : // element e = q·S + L of the R vec4s an iteration needs: row group e % (R/4), k-step e / (R/4)
        `let acs = pu(8u);\n  ${qs
          .map((q) => {
            const e = `(${q * S}u + L)`;
            return `let ac${q} = (bo.x + min(row0 + 4u * (${e} % ${R / 4}u), M - 4u) + (${e} / ${R / 4}u) * acs) / 4u;`;
          })
          .join("\n  ")}`;
  const bSetup =
    bm === "n"
      ? "let bn = (bo.y + cl) / 4u; let brs4 = brs / 4u;"
      : [0, 1, 2, 3].map((j) => `let bk${j} = (bo.y + (cl + ${j}u) * bcs) / 4u;`).join(" ");
  const bLoads =
    bm === "n"
      ? [0, 1, 2, 3].map((t) => `let b${t} = B[bn + (k4 * 4u + ${t}u) * brs4];`).join(" ")
      : `${[0, 1, 2, 3].map((j) => `let v${j} = B[bk${j} + k4];`).join(" ")}
    ${[0, 1, 2, 3].map((t) => `let b${t} = vec4<f32>(v0.${comp[t]}, v1.${comp[t]}, v2.${comp[t]}, v3.${comp[t]});`).join(" ")}`;
  const rowA = (r: number): string => {
    if (am === "r") return `subgroupBroadcast(a${Math.floor(r / S)}, ${r % S}u)`;
    const parts = [0, 1, 2, 3].map((t) => {
      const e = t * (R / 4) + Math.floor(r / 4);
      return `subgroupBroadcast(a${Math.floor(e / S)}.${comp[r % 4]}, ${e % S}u)`;
    });
    return `vec4<f32>(${parts.join(", ")})`;
  };
  const update = rows
    .map((r) => `{ let a = ${rowA(r)}; c${r} = c${r} + a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3; }`)
    .join("\n    ");
  return {
    key: `matmul.subgroup.${am}${bm}.${R}.${S}`,
    code: () => `enable subgroups;
${PARAMS_WGSL}${prelude(true, true, true)}
@compute @workgroup_size(${S})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) L: u32) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let bo = batch_offsets(wid.z);
  let ars = pu(7u); let brs = pu(9u); let bcs = pu(10u);
  let row0 = wid.y * ${R}u;
  let col0 = (wid.x * ${S}u + L) * 4u;
  let cl = min(col0, N - 4u);
  ${aSetup}
  ${bSetup}
  ${rows.map((r) => `var c${r} = vec4<f32>(0.0);`).join(" ")}
  for (var k4 = 0u; k4 < K / 4u; k4++) {
    ${aLoads}
    ${bLoads}
    ${update}
  }
  if (col0 < N) {
    let cz = wid.z * M * N + col0;
${rows.map((r) => `    if (row0 + ${r}u < M) { C[(cz + (row0 + ${r}u) * N) / 4u] = c${r}; }`).join("\n")}
  }
}
`,
  };
}

/** Rows per workgroup of the subgroup kernel: 32 amortizes B's loads best; 8 wastes less on short A. */
function subgroupRows(M: number, S: number): number {
  return Math.max(S, M <= 8 ? 8 : M <= 16 ? 16 : 32);
}

const TILE = 64;
const KT = 16;
/**
 * Shared-memory tiled matmul for real GPUs: a 16×16 workgroup computes a 64×64 tile of C, staging
 * 64×16 slices of A and B in workgroup memory; each invocation owns a 4×4 block.
 */
function tiledKernel(): Kernel {
  return {
    key: "matmul.tiled",
    code: () => `${PARAMS_WGSL}${PRELUDE}
var<workgroup> As: array<f32, ${TILE * KT}>;
var<workgroup> Bs: array<f32, ${TILE * KT}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let bo = batch_offsets(wid.z);
  let ars = pu(7u); let acs = pu(8u); let brs = pu(9u); let bcs = pu(10u);
  let tr = wid.y * ${TILE}u;
  let tc = wid.x * ${TILE}u;
  let t = lid.y * 16u + lid.x;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < K; k0 += ${KT}u) {
    for (var e = t; e < ${TILE * KT}u; e += 256u) {
      // As[r][kk] for r in 0..64, kk in 0..16; Bs[kk][c]
      let r = e / ${KT}u; let kk = e % ${KT}u;
      let gr = tr + r; let gk = k0 + kk;
      As[kk * ${TILE}u + r] = select(0.0, A[bo.x + min(gr, M - 1u) * ars + min(gk, K - 1u) * acs], gr < M && gk < K);
      let kb = e / ${TILE}u; let c = e % ${TILE}u;
      let gc = tc + c; let gkb = k0 + kb;
      Bs[kb * ${TILE}u + c] = select(0.0, B[bo.y + min(gkb, K - 1u) * brs + min(gc, N - 1u) * bcs], gc < N && gkb < K);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${KT}u; kk++) {
      let b = vec4<f32>(Bs[kk * ${TILE}u + lid.x * 4u], Bs[kk * ${TILE}u + lid.x * 4u + 1u], Bs[kk * ${TILE}u + lid.x * 4u + 2u], Bs[kk * ${TILE}u + lid.x * 4u + 3u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i] += As[kk * ${TILE}u + lid.y * 4u + i] * b;
      }
    }
    workgroupBarrier();
  }
  let cz = wid.z * M * N;
  for (var i = 0u; i < 4u; i++) {
    let r = tr + lid.y * 4u + i;
    if (r < M) {
      for (var j = 0u; j < 4u; j++) {
        let c = tc + lid.x * 4u + j;
        if (c < N) { C[cz + r * N + c] = acc[i][j]; }
      }
    }
  }
}
`,
  };
}

const kernels = new Map<string, Kernel>();
function kernel(key: string, make: () => Kernel): Kernel {
  let k = kernels.get(key);
  if (!k) {
    k = make();
    kernels.set(key, k);
  }
  return k;
}

/**
 * One product C = A·B (no batch) whose operands exceed one binding: rows of C in chunks that fit,
 * and K in chunks when an operand's K-slab does not; operands too big to bind are staged (copied
 * chunk by chunk into pooled buffers), partial products over K are summed, and each chunk of C is
 * copied to `out` at element `cOffset`.
 */
function runStaged(
  rt: GpuRuntime,
  a: MatrixOperand,
  b: MatrixOperand,
  out: GPUBuffer,
  cOffset: number,
  M: number,
  N: number,
  K: number,
  variant: MatmulVariant,
): void {
  const cap = Math.floor(rt.maxBinding / 4);
  const stageA = a.buffer.size > rt.maxBinding;
  const stageB = b.buffer.size > rt.maxBinding;
  const spanA = (m: number, k: number) => ((m - 1) * a.rs + (k - 1) * a.cs + 1) * 4;
  const spanB = (k: number) => ((k - 1) * b.rs + (N - 1) * b.cs + 1) * 4;
  const half = (n: number) => (n > 8 ? Math.ceil(n / 8) * 4 : Math.ceil(n / 2));
  let kc = K;
  while (stageB && kc > 1 && spanB(kc) > cap) kc = half(kc);
  let mc = M;
  while (mc > 1 && (mc * N * 4 > cap || (stageA && spanA(mc, kc) > cap))) mc = Math.ceil(mc / 2);
  while (stageA && kc > 1 && spanA(mc, kc) > cap) kc = half(kc);
  if (mc * N * 4 > cap || (stageA && spanA(mc, kc) > cap) || (stageB && spanB(kc) > cap)) {
    throw new Error(
      `webgpu: matmul: no split of [${M}×${K}]·[${K}×${N}] fits one binding (maxStorageBufferBindingSize ${rt.maxBinding})`,
    );
  }
  const stage = (op: MatrixOperand, staged: boolean, lo: number, bytes: number, temps: GPUBuffer[]) => {
    if (!staged) return { ...op, offset: lo, batchStrides: [] };
    const t = rt.pool.acquire(bytes, "matmul stage");
    temps.push(t);
    rt.copy(op.buffer, lo * 4, t, 0, bytes);
    return { ...op, buffer: t, offset: 0, batchStrides: [] };
  };
  for (let m0 = 0; m0 < M; m0 += mc) {
    const m = Math.min(mc, M - m0);
    const c = rt.pool.acquire(m * N * 4, "matmul chunk");
    let part: GPUBuffer | null = null;
    for (let k0 = 0; k0 < K; k0 += kc) {
      const k = Math.min(kc, K - k0);
      const temps: GPUBuffer[] = [];
      const ac = stage(a, stageA, a.offset + m0 * a.rs + k0 * a.cs, spanA(m, k), temps);
      const bc = stage(b, stageB, b.offset + k0 * b.rs, spanB(k), temps);
      if (k0 > 0) part ??= rt.pool.acquire(m * N * 4, "matmul part");
      runMatmul(rt, ac, bc, k0 === 0 ? c : (part as GPUBuffer), m, N, k, [], variant);
      if (k0 > 0) foldInto(rt, "add", c, part, m * N);
      for (const t of temps) rt.pool.release(t);
    }
    rt.copy(c, 0, out, (cOffset + m0 * N) * 4, m * N * 4);
    rt.pool.release(c);
    if (part) rt.pool.release(part);
  }
}

/**
 * Records C[b] = A[b] @ B[b] into contiguous `out` ([...batch, M, N]); operands are read in place
 * (transposed or not) with broadcast batch strides. `variant` picks the kernel family.
 */
export function runMatmul(
  rt: GpuRuntime,
  a: MatrixOperand,
  b: MatrixOperand,
  out: GPUBuffer,
  M: number,
  N: number,
  K: number,
  batchShape: readonly number[],
  variant: MatmulVariant = rt.ctx.adapter.matmulVariant,
): void {
  // merge batch dims into at most MAX_BATCH_RANK
  const shape: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  for (let d = 0; d < batchShape.length; d++) {
    if (batchShape[d] === 1) continue;
    const l = shape.length - 1;
    if (
      l >= 0 &&
      as[l] === a.batchStrides[d] * batchShape[d] &&
      bs[l] === b.batchStrides[d] * batchShape[d]
    ) {
      shape[l] *= batchShape[d];
      as[l] = a.batchStrides[d];
      bs[l] = b.batchStrides[d];
    } else {
      shape.push(batchShape[d]);
      as.push(a.batchStrides[d]);
      bs.push(b.batchStrides[d]);
    }
  }
  if (shape.length > MAX_BATCH_RANK)
    throw new Error(`webgpu: matmul: batch [${batchShape}] has too many dims`);
  const batch = shape.reduce((x, y) => x * y, 1);
  if (M === 0 || N === 0 || batch === 0) return;
  if ([a.buffer, b.buffer, out].some((buf) => buf.size > rt.maxBinding)) {
    for (let z = 0; z < batch; z++) {
      // one product at a time: this batch index's offsets into A and B, row-major over `shape`
      let rem = z;
      let ao = a.offset;
      let bo = b.offset;
      for (let d = shape.length - 1; d >= 0; d--) {
        const c = rem % shape[d];
        rem = Math.floor(rem / shape[d]);
        ao += c * as[d];
        bo += c * bs[d];
      }
      runStaged(rt, { ...a, offset: ao }, { ...b, offset: bo }, out, z * M * N, M, N, K, variant);
    }
    return;
  }
  const maxZ = rt.ctx.adapter.limits.maxComputeWorkgroupsPerDimension;
  const p = new ParamWriter();
  p.u(M).u(N).u(K).u(batch).u(shape.length).u(a.offset).u(b.offset).u(a.rs).u(a.cs).u(b.rs).u(b.cs);
  for (let d = 0; d < MAX_BATCH_RANK; d++) p.at(12 + d).u(shape[d] ?? 1);
  for (let d = 0; d < MAX_BATCH_RANK; d++) p.at(16 + d).u(as[d] ?? 0);
  for (let d = 0; d < MAX_BATCH_RANK; d++) p.at(20 + d).u(bs[d] ?? 0);
  if (batch > maxZ) throw new Error(`webgpu: matmul: batch ${batch} exceeds ${maxZ} workgroups in z`);
  const bindings = [{ buffer: out }, { buffer: a.buffer }, { buffer: b.buffer }];
  if (K === 0) {
    throw new Error("webgpu: matmul with K = 0 must be handled by the caller (fill with zeros)");
  }
  if (variant === "tiled") {
    rt.dispatch(kernel("tiled", tiledKernel), p.done(), bindings, [
      Math.ceil(N / TILE),
      Math.ceil(M / TILE),
      batch,
    ]);
    return;
  }
  const q = (x: number) => x % 4 === 0;
  const aligned = (s: readonly number[]) => s.every(q);
  const S = rt.ctx.adapter.subgroupSize;
  if (variant === "subgroup" && S !== null && q(K) && q(N)) {
    // A read along K (rows) or along M (columns), B along N (rows) or along K (columns), all as vec4
    const am: SgA | null =
      a.cs === 1 && q(a.rs) && q(a.offset) && aligned(as)
        ? "r"
        : a.rs === 1 && q(a.cs) && q(a.offset) && aligned(as) && q(M)
          ? "c"
          : null;
    const bm: SgB | null =
      b.cs === 1 && q(b.rs) && q(b.offset) && aligned(bs)
        ? "n"
        : b.rs === 1 && q(b.cs) && q(b.offset) && aligned(bs)
          ? "k"
          : null;
    const R = subgroupRows(M, S);
    if (am && bm && R % S === 0 && Math.ceil(M / R) <= maxZ && Math.ceil(N / (4 * S)) <= maxZ) {
      const k = kernel(`subgroup.${am}${bm}.${R}.${S}`, () => subgroupKernel(am, bm, R, S));
      rt.dispatch(k, p.done(), bindings, [Math.ceil(N / (4 * S)), Math.ceil(M / R), batch]);
      return;
    }
  }
  let mode: "n4" | "n4v" | "k4" | "k4v" | "s" = "s";
  const aRows = a.cs === 1 && q(a.rs) && q(a.offset) && aligned(as) && q(K);
  if (b.cs === 1 && q(N) && q(b.offset) && q(b.rs) && aligned(bs)) {
    mode = aRows ? "n4v" : "n4";
  } else if (b.rs === 1 && q(K) && q(b.offset) && q(b.cs) && aligned(bs)) {
    mode = a.cs === 1 && q(a.rs) && q(a.offset) && aligned(as) ? "k4v" : "k4";
  }
  const k = kernel(`lanes.${mode}`, () => laneKernel(mode));
  const rowGroups = Math.ceil(M / 4);
  const colGroups = Math.ceil(N / (4 * RX));
  if (rowGroups > maxZ || colGroups > maxZ) {
    throw new Error(`webgpu: matmul: ${M}×${N} exceeds the dispatch limit of ${maxZ} workgroups a dimension`);
  }
  rt.dispatch(k, p.done(), bindings, [rowGroups, colGroups, batch]);
}
