/// <reference types="@webgpu/types" />
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

/**
 * Register-blocked matmul for CPU-like adapters (lavapipe, SwiftShader): each invocation keeps a
 * 4×4 block of C in registers and streams A and B from memory; no workgroup memory, no barriers.
 * `aUnit`/`bUnit` say which operand stride is 1, so the compiler sees contiguous loads.
 */
function registerKernel(aT: boolean, bT: boolean): Kernel {
  return {
    key: `matmul.register.${aT ? "t" : "n"}${bT ? "t" : "n"}`,
    code: () => `${PARAMS_WGSL}${PRELUDE}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= M || col0 >= N) { return; }
  let bo = batch_offsets(gid.z);
  let ars = pu(7u); let acs = pu(8u); let brs = pu(9u); let bcs = pu(10u);
  var ra: array<u32, 4>;
  var cb: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    ra[i] = bo.x + min(row0 + i, M - 1u) * ${aT ? "1u" : "ars"};
    cb[i] = bo.y + min(col0 + i, N - 1u) * ${bT ? "bcs" : "1u"};
  }
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < K; k++) {
    let ka = k * ${aT ? "acs" : "1u"};
    let kb = k * ${bT ? "1u" : "brs"};
    let b = vec4<f32>(B[cb[0] + kb], B[cb[1] + kb], B[cb[2] + kb], B[cb[3] + kb]);
    acc[0] += A[ra[0] + ka] * b;
    acc[1] += A[ra[1] + ka] * b;
    acc[2] += A[ra[2] + ka] * b;
    acc[3] += A[ra[3] + ka] * b;
  }
  let cz = gid.z * M * N;
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + i;
    if (r < M) {
      for (var j = 0u; j < 4u; j++) {
        if (col0 + j < N) { C[cz + r * N + col0 + j] = acc[i][j]; }
      }
    }
  }
}
`,
  };
}

function prelude(aVec: boolean, bVec: boolean): string {
  return PRELUDE.replace(
    "var<storage, read> A: array<f32>;",
    aVec ? "var<storage, read> A: array<vec4<f32>>;" : "var<storage, read> A: array<f32>;",
  ).replace(
    "var<storage, read> B: array<f32>;",
    bVec ? "var<storage, read> B: array<vec4<f32>>;" : "var<storage, read> B: array<f32>;",
  );
}

/**
 * Register-blocked matmul with B read as vec4 rows (B row-major, N and its strides multiples of 4):
 * one 16-byte load brings the invocation's four columns.
 */
function registerVecNKernel(aT: boolean): Kernel {
  return {
    key: `matmul.register.${aT ? "t" : "n"}n.vec4`,
    code: () => `${PARAMS_WGSL}${prelude(false, true)}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= M || col0 >= N) { return; }
  let bo = batch_offsets(gid.z);
  let ars = pu(7u); let acs = pu(8u); let brs4 = pu(9u) / 4u;
  var ra: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) { ra[i] = bo.x + min(row0 + i, M - 1u) * ${aT ? "1u" : "ars"}; }
  let cb = (bo.y + col0) / 4u;
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < K; k++) {
    let ka = k * ${aT ? "acs" : "1u"};
    let b = B[cb + k * brs4];
    acc[0] += A[ra[0] + ka] * b;
    acc[1] += A[ra[1] + ka] * b;
    acc[2] += A[ra[2] + ka] * b;
    acc[3] += A[ra[3] + ka] * b;
  }
  let cz = gid.z * M * N;
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + i;
    if (r < M) { for (var j = 0u; j < 4u; j++) { C[cz + r * N + col0 + j] = acc[i][j]; } }
  }
}
`,
  };
}

/**
 * Register-blocked matmul for A row-major and B transposed (both contiguous along K, K a multiple
 * of 4): four k-steps per iteration, each operand row read as vec4, accumulated by dot products.
 */
function registerVecKKernel(): Kernel {
  return {
    key: "matmul.register.nt.vec4",
    code: () => `${PARAMS_WGSL}${prelude(true, true)}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= M || col0 >= N) { return; }
  let bo = batch_offsets(gid.z);
  let ars = pu(7u); let bcs = pu(10u);
  var ra: array<u32, 4>;
  var cb: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    ra[i] = (bo.x + min(row0 + i, M - 1u) * ars) / 4u;
    cb[i] = (bo.y + min(col0 + i, N - 1u) * bcs) / 4u;
  }
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < K / 4u; k++) {
    let b0 = B[cb[0] + k]; let b1 = B[cb[1] + k]; let b2 = B[cb[2] + k]; let b3 = B[cb[3] + k];
    for (var i = 0u; i < 4u; i++) {
      let a = A[ra[i] + k];
      acc[i] += vec4<f32>(dot(a, b0), dot(a, b1), dot(a, b2), dot(a, b3));
    }
  }
  let cz = gid.z * M * N;
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + i;
    if (r < M) {
      for (var j = 0u; j < 4u; j++) { if (col0 + j < N) { C[cz + r * N + col0 + j] = acc[i][j]; } }
    }
  }
}
`,
  };
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
  variant: "register" | "tiled" = rt.ctx.adapter.matmulVariant,
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
  for (const [name, buf] of [
    ["a", a.buffer],
    ["b", b.buffer],
    ["out", out],
  ] as const) {
    if (buf.size > rt.maxBinding) {
      throw new Error(
        `webgpu: matmul: operand ${name} of ${buf.size} bytes exceeds one binding (${rt.maxBinding}); split the batch`,
      );
    }
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
  } else {
    const aT = a.rs === 1 && a.cs !== 1;
    const bT = b.rs === 1 && b.cs !== 1;
    const q = (x: number) => x % 4 === 0;
    const batchAligned = (s: readonly number[]) => s.every(q);
    let k: Kernel;
    if (!bT && q(N) && q(b.offset) && q(b.rs) && batchAligned(bs)) {
      k = kernel(`vecN${aT}`, () => registerVecNKernel(aT));
    } else if (
      !aT &&
      bT &&
      q(K) &&
      q(a.offset) &&
      q(b.offset) &&
      q(a.rs) &&
      q(b.cs) &&
      batchAligned(as) &&
      batchAligned(bs)
    ) {
      k = kernel("vecK", registerVecKKernel);
    } else {
      k = kernel(`reg${aT}${bT}`, () => registerKernel(aT, bT));
    }
    rt.dispatch(k, p.done(), bindings, [Math.ceil(N / 32), Math.ceil(M / 32), batch]);
  }
}
