// Compares today's fused rope (one backend op since febd8bb) with the composed rope it replaced
// (narrow, mul, sub, add, cat: the op sequence of packages/tensor/src/ops/nn.ts at 3aafc42), on the
// default model's attention shapes, forward and backward, on every CPU backend that loads here; both
// are measured against a float64 computation (and PyTorch's float64 rotate-half rope when
// /usr/bin/python3 has torch). With --determinism or --trajectory it runs short SFT runs of the
// default VLM in child processes: twice with the fused rope (are two runs bit-identical?), and with
// the fused kernel rounding as the composed ops did (how fast does that difference grow?).
//
//   node packages/vlm/scripts/rope-compare.mjs                      # the op comparison
//   node packages/vlm/scripts/rope-compare.mjs --determinism --data runs/demo/data [--steps 4]
//   node packages/vlm/scripts/rope-compare.mjs --trajectory 150 --snapshot-every 25 --data runs/demo/data
//
// Needs the built dist: npx turbo run build --filter=@sr2se/vlm...
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as T from "@sr2se/tensor";

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};

// ---------------------------------------------------------------------------------------------
// The rope tables, exactly as ops/nn.ts builds them (unchanged by febd8bb): angles in float64 from
// base ** (-2j/D), cos/sin in float64, stored in the tensor's dtype.

/** Returns the position rows of rope's `positions` argument for sequence length L. */
function positionRows(positions, L) {
  if (typeof positions === "number") return [Array.from({ length: L }, (_, i) => positions + i)];
  if (positions.length > 0 && typeof positions[0] !== "number") return positions.map((p) => Array.from(p));
  return [Array.from(positions)];
}

/** Returns {cos, sin} float64 tables [rows·L·half] and the table shape rope uses. */
function ropeTables(positions, L, D, base) {
  const rows = positionRows(positions, L);
  const half = D / 2;
  const cos = new Float64Array(rows.length * L * half);
  const sin = new Float64Array(rows.length * L * half);
  const inv = Array.from({ length: half }, (_, j) => base ** ((-2 * j) / D));
  rows.forEach((r, b) => {
    for (let i = 0; i < L; i++)
      for (let j = 0; j < half; j++) {
        const angle = r[i] * inv[j];
        cos[(b * L + i) * half + j] = Math.cos(angle);
        sin[(b * L + i) * half + j] = Math.sin(angle);
      }
  });
  const perBatch = rows.length > 1 || (typeof positions !== "number" && typeof positions[0] !== "number");
  return { cos, sin, shape: perBatch ? [rows.length, 1, L, half] : [L, half] };
}

/** The composed rope of 3aafc42, op for op, out of today's elementwise and shape ops. */
function composedRope(x, positions, options = {}) {
  const base = options.base ?? 10000;
  const L = x.shape[x.ndim - 2];
  const D = x.shape[x.ndim - 1];
  const half = D / 2;
  const t = ropeTables(positions, L, D, base);
  const cast = (a) => (x.dtype === "float64" ? a : Float32Array.from(a));
  const cosT = T.tensor(cast(t.cos), { shape: t.shape });
  const sinT = T.tensor(cast(t.sin), { shape: t.shape });
  const x1 = T.narrow(x, -1, 0, half);
  const x2 = T.narrow(x, -1, half, half);
  const a = T.mul(x1, cosT);
  const b = T.mul(x2, sinT);
  const c = T.mul(x2, cosT);
  const d = T.mul(x1, sinT);
  const r1 = T.sub(a, b);
  const r2 = T.add(c, d);
  const out = T.cat([r1, r2], -1);
  for (const u of [cosT, sinT, x1, x2, a, b, c, d, r1, r2]) u.dispose();
  return out;
}

/** Returns out and dx of rope in float64 arithmetic on host arrays x [rows·D] (row r uses table row tr(r)). */
function ropeFloat64(x, g, tab, D, tableRow, roundTables) {
  const half = D / 2;
  const rows = x.length / D;
  const out = new Float64Array(x.length);
  const dx = new Float64Array(x.length);
  const f = roundTables ? Math.fround : (v) => v;
  for (let r = 0; r < rows; r++) {
    const to = tableRow(r) * half;
    for (let j = 0; j < half; j++) {
      const c = f(tab.cos[to + j]);
      const s = f(tab.sin[to + j]);
      const i1 = r * D + j;
      const i2 = i1 + half;
      out[i1] = x[i1] * c - x[i2] * s;
      out[i2] = x[i2] * c + x[i1] * s;
      dx[i1] = g[i1] * c + g[i2] * s;
      dx[i2] = g[i2] * c - g[i1] * s;
    }
  }
  return { out, dx };
}

// ---------------------------------------------------------------------------------------------
// Differences

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);
/** Returns a float32's position on the ordered integer line (so ULP distance is a subtraction). */
function ordinal(v) {
  f32[0] = v;
  const i = i32[0];
  return i < 0 ? -2147483648 - i : i;
}

/** Returns the spacing of float32 numbers at magnitude m (one ULP there). */
function ulp32(m) {
  if (m === 0) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(Math.abs(m))) - 23);
}

/**
 * Returns max abs diff, max ULP diff of the elements (both rounded to float32), max diff in ULPs of
 * the rotated pair's magnitude `pairNorm[i]` (rope is a rotation: an error within float32 rounding
 * is a few of these, while the element ULP count explodes where the result cancels to near 0),
 * and the share of elements that differ once rounded to float32.
 */
function compare(a, b, pairNorm) {
  let maxAbs = 0;
  let maxUlp = 0;
  let maxPairUlp = 0;
  let differ = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > maxAbs) maxAbs = d;
    const u = Math.abs(ordinal(a[i]) - ordinal(b[i]));
    if (u > maxUlp) maxUlp = u;
    if (pairNorm) {
      const p = d / ulp32(pairNorm[i]);
      if (p > maxPairUlp) maxPairUlp = p;
    }
    if (Math.fround(a[i]) !== Math.fround(b[i])) differ++;
  }
  return { maxAbs, maxUlp, maxPairUlp, differ: differ / a.length };
}

/** Returns √(v[j]² + v[j+h]²) for both elements of every rotated pair of rows of length D. */
function pairNorms(v, D) {
  const h = D / 2;
  const out = new Float64Array(v.length);
  for (let r = 0; r < v.length / D; r++)
    for (let j = 0; j < h; j++) {
      const i = r * D + j;
      out[i] = out[i + h] = Math.hypot(v[i], v[i + h]);
    }
  return out;
}

const fmt = (c) =>
  `max|Δ| ${c.maxAbs.toExponential(2)}  max ULP ${String(c.maxUlp).padStart(5)}  max ULP of |pair| ${c.maxPairUlp.toFixed(2).padStart(5)}  differ ${(100 * c.differ).toFixed(1).padStart(5)}%`;

// ---------------------------------------------------------------------------------------------
// The op comparison

async function opComparison() {
  const { defaultConfig } = await import("@sr2se/vlm");
  const tc = defaultConfig(512, { image: 1, eos: 2 }).text_config;
  const D = tc.head_dim ?? tc.hidden_size / tc.num_attention_heads;
  const base = tc.rope_theta;
  const B = Number(value("--batch", 16));
  const lengths = value("--lengths", "100,200,320").split(",").map(Number);
  const names = T.registeredBackends().filter((n) => n.startsWith("cpu"));
  console.log(
    `default text tower: head_dim ${D}, heads ${tc.num_attention_heads}, kv heads ${tc.num_key_value_heads}, rope_theta ${base}; batch ${B}`,
  );
  const cases = [];
  for (const L of lengths) {
    for (const H of [tc.num_attention_heads, tc.num_key_value_heads]) cases.push({ L, H, positions: 0 });
  }
  // a KV-cache step (start offset) and left-padded per-batch positions
  cases.push({ L: 1, H: tc.num_attention_heads, positions: 211 });
  cases.push({ L: 24, H: tc.num_key_value_heads, positions: 150 });
  const Lp = lengths[0];
  cases.push({
    L: Lp,
    H: tc.num_attention_heads,
    positions: Array.from({ length: B }, (_, b) =>
      Array.from({ length: Lp }, (_, i) => Math.max(0, i - (b % 5))),
    ),
  });
  const torchCases = [];
  const worst = { fusedVsComposed: 0, fusedVs64: 0, composedVs64: 0, f64Math: 0 };
  const worstPair = { fusedVsComposed: 0, fusedVs64: 0, composedVs64: 0 };
  for (const name of names) {
    try {
      await T.init({ backend: name });
    } catch (err) {
      console.log(`[${name}] skipped: ${err.message.split("\n")[0]}`);
      continue;
    }
    console.log(`\n[${name}]`);
    for (const k of cases) {
      const { L, H, positions } = k;
      const shape = [B, H, L, D];
      const gen = new T.Generator(1000 + L * 7 + H);
      // the model's layout: [B, L, H, D] from a Linear, viewed as [B, H, L, D] (strided)
      const xh = new Float32Array(B * L * H * D).map(() => gen.normal());
      const gh = new Float32Array(B * H * L * D).map(() => gen.normal());
      const row = { name, L, H, start: typeof positions === "number" ? positions : "per-batch" };
      for (const dtype of ["float32", "float64"]) {
        const host = (a) => (dtype === "float64" ? Float64Array.from(a) : a);
        const results = {};
        for (const variant of ["fused", "composed"]) {
          const xl = T.tensor(host(xh), { shape: [B, L, H, D] });
          xl.requiresGrad = true;
          const x = xl.transpose(1, 2);
          const y =
            variant === "fused" ? T.rope(x, positions, { base }) : composedRope(x, positions, { base });
          const g = T.tensor(host(gh), { shape });
          y.backward(g);
          const out = await y.data();
          // xl.grad is laid out [B, L, H, D]; bring it to [B, H, L, D]
          const dxT = xl.grad.transpose(1, 2).contiguous();
          const dx = await dxT.data();
          results[variant] = { out, dx };
          for (const u of [xl, x, y, g, dxT]) u.dispose();
        }
        if (dtype === "float64") {
          const m = Math.max(
            compare(results.fused.out, results.composed.out).maxAbs,
            compare(results.fused.dx, results.composed.dx).maxAbs,
          );
          worst.f64Math = Math.max(worst.f64Math, m);
          row.f64 = m;
          row.results64 = results;
          continue;
        }
        // float64 references on the same float32 inputs, in [B, H, L, D] order
        const xs = new Float64Array(B * H * L * D);
        for (let b = 0; b < B; b++)
          for (let h = 0; h < H; h++)
            for (let l = 0; l < L; l++)
              for (let d = 0; d < D; d++)
                xs[((b * H + h) * L + l) * D + d] = xh[((b * L + l) * H + h) * D + d];
        const tab = ropeTables(positions, L, D, base);
        const perBatch = tab.shape.length === 4;
        const tableRow = (r) => (perBatch ? Math.floor(r / (H * L)) * L + (r % L) : r % L);
        const exact = ropeFloat64(xs, gh, tab, D, tableRow, false);
        const exactT = ropeFloat64(xs, gh, tab, D, tableRow, true);
        const nx = pairNorms(xs, D);
        const ng = pairNorms(gh, D);
        const both = (p, q) => ({ out: compare(p.out, q.out, nx), dx: compare(p.dx, q.dx, ng) });
        const fvc = both(results.fused, results.composed);
        const fv64 = both(results.fused, exact);
        const cv64 = both(results.composed, exact);
        const fv64t = both(results.fused, exactT);
        const cv64t = both(results.composed, exactT);
        for (const [key, c] of [
          ["fusedVsComposed", fvc],
          ["fusedVs64", fv64],
          ["composedVs64", cv64],
        ])
          worstPair[key] = Math.max(worstPair[key], c.out.maxPairUlp, c.dx.maxPairUlp);
        worst.fusedVsComposed = Math.max(worst.fusedVsComposed, fvc.out.maxAbs, fvc.dx.maxAbs);
        worst.fusedVs64 = Math.max(worst.fusedVs64, fv64.out.maxAbs, fv64.dx.maxAbs);
        worst.composedVs64 = Math.max(worst.composedVs64, cv64.out.maxAbs, cv64.dx.maxAbs);
        console.log(
          `  x [${shape}] positions ${row.start}${typeof positions === "number" ? "…" : ""}\n` +
            `    fused vs composed   fwd ${fmt(fvc.out)}\n                        bwd ${fmt(fvc.dx)}\n` +
            `    fused vs float64    fwd ${fmt(fv64.out)}\n                        bwd ${fmt(fv64.dx)}\n` +
            `    composed vs float64 fwd ${fmt(cv64.out)}\n                        bwd ${fmt(cv64.dx)}\n` +
            `    vs float64 with the float32-rounded tables (arithmetic error alone): fused fwd ${fv64t.out.maxUlp} / bwd ${fv64t.dx.maxUlp} ULP, composed fwd ${cv64t.out.maxUlp} / bwd ${cv64t.dx.maxUlp} ULP`,
        );
        row.xs = xs;
        row.gh = gh;
        row.results32 = results;
      }
      console.log(`    float64 tensors: fused vs composed max|Δ| ${row.f64.toExponential(2)}`);
      if (
        name === names[0] &&
        (typeof positions !== "number" || positions !== 0 || L === lengths[lengths.length - 1])
      )
        torchCases.push({
          shape,
          positions,
          xs: row.xs,
          gh: row.gh,
          ...row.results32,
          f64: row.results64.fused,
        });
    }
  }
  console.log(
    `\nworst max|Δ| over all cases: fused vs composed ${worst.fusedVsComposed.toExponential(2)}, ` +
      `fused vs float64 ${worst.fusedVs64.toExponential(2)}, composed vs float64 ${worst.composedVs64.toExponential(2)}; ` +
      `float64 tensors fused vs composed ${worst.f64Math.toExponential(2)}`,
  );
  console.log(
    `worst in ULPs of the rotated pair's magnitude: fused vs composed ${worstPair.fusedVsComposed.toFixed(2)}, ` +
      `fused vs float64 ${worstPair.fusedVs64.toFixed(2)}, composed vs float64 ${worstPair.composedVs64.toFixed(2)}`,
  );
  torchComparison(torchCases, base);
}

/** Compares the float32 results with PyTorch's float64 rotate-half rope (Hugging Face's Llama formula). */
function torchComparison(cases, base) {
  const probe = spawnSync("/usr/bin/python3", ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0) {
    console.log("\nPyTorch: not available (/usr/bin/python3 -c 'import torch' failed); skipped");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "rope-torch-"));
  const py = `
import json, sys, numpy as np, torch
d = sys.argv[1]
meta = json.load(open(d + "/meta.json"))
for i, c in enumerate(meta):
    B, H, L, D = c["shape"]
    x = torch.from_numpy(np.fromfile(f"{d}/x{i}.bin", dtype=np.float64).reshape(B, H, L, D)).requires_grad_(True)
    g = torch.from_numpy(np.fromfile(f"{d}/g{i}.bin", dtype=np.float32).astype(np.float64).reshape(B, H, L, D))
    pos = c["positions"]
    if isinstance(pos, int):
        pos = torch.arange(pos, pos + L, dtype=torch.float64)[None].expand(B, L)
    else:
        pos = torch.tensor(pos, dtype=torch.float64)
    inv_freq = 1.0 / (c["base"] ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    freqs = pos[..., None] * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    def rotate_half(t):
        t1, t2 = t[..., : D // 2], t[..., D // 2 :]
        return torch.cat((-t2, t1), dim=-1)
    y = x * cos + rotate_half(x) * sin
    y.backward(g)
    y.detach().numpy().astype(np.float64).tofile(f"{d}/y{i}.bin")
    x.grad.numpy().astype(np.float64).tofile(f"{d}/dx{i}.bin")
`;
  writeFileSync(
    join(dir, "meta.json"),
    JSON.stringify(cases.map((c) => ({ shape: c.shape, positions: c.positions, base }))),
  );
  cases.forEach((c, i) => {
    writeFileSync(join(dir, `x${i}.bin`), Buffer.from(c.xs.buffer));
    writeFileSync(join(dir, `g${i}.bin`), Buffer.from(c.gh.buffer));
  });
  const r = spawnSync("/usr/bin/python3", ["-c", py, dir], { encoding: "utf8" });
  if (r.status !== 0) {
    console.log(`\nPyTorch: the reference failed: ${r.stderr.trim().split("\n").pop()}`);
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  console.log("\nPyTorch float64 (Hugging Face rotate_half, inv_freq = 1/base^(2j/D)) vs our float32:");
  cases.forEach((c, i) => {
    const ty = new Float64Array(readFileSync(join(dir, `y${i}.bin`)).buffer.slice(0));
    const tdx = new Float64Array(readFileSync(join(dir, `dx${i}.bin`)).buffer.slice(0));
    const pos = typeof c.positions === "number" ? `${c.positions}…` : "per-batch";
    const D = c.shape[3];
    const nx = pairNorms(c.xs, D);
    const ng = pairNorms(c.gh, D);
    console.log(
      `  x [${c.shape}] positions ${pos}\n` +
        `    fused    fwd ${fmt(compare(c.fused.out, ty, nx))}\n             bwd ${fmt(compare(c.fused.dx, tdx, ng))}\n` +
        `    composed fwd ${fmt(compare(c.composed.out, ty, nx))}\n             bwd ${fmt(compare(c.composed.dx, tdx, ng))}\n` +
        `    fused in float64 tensors: fwd max|Δ| ${compare(c.f64.out, ty).maxAbs.toExponential(2)}, bwd max|Δ| ${compare(c.f64.dx, tdx).maxAbs.toExponential(2)}`,
    );
  });
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// SFT runs in child processes

/**
 * Makes the backend's fused rope round as the composed ops did: every product and every sum
 * rounded to float32 on its own (mul, mul, sub / add), and the backward's two products summed the
 * way autograd accumulated them. Checked bit for bit against composedRope in the child.
 */
function roundLikeComposed(backend) {
  const fr = Math.fround;
  backend.rope = (x, cos, sin, inverse, out) => {
    const D = x.shape[x.shape.length - 1];
    const h = D / 2;
    const lead = x.shape.slice(0, -1);
    const rows = lead.reduce((a, b) => a * b, 1);
    const o = out.data;
    const xd = x.buffer.data;
    const cd = cos.buffer.data;
    const sd = sin.buffer.data;
    const offs = (v, r) => {
      let off = v.offset;
      for (let i = lead.length - 1; i >= 0; i--) {
        off += (r % lead[i]) * v.strides[i];
        r = Math.floor(r / lead[i]);
      }
      return off;
    };
    const xs = x.strides[x.strides.length - 1];
    const cs = cos.strides[cos.strides.length - 1];
    const ss = sin.strides[sin.strides.length - 1];
    for (let r = 0; r < rows; r++) {
      const xo = offs(x, r);
      const co = offs(cos, r);
      const so = offs(sin, r);
      for (let j = 0; j < h; j++) {
        const x1 = xd[xo + j * xs];
        const x2 = xd[xo + (j + h) * xs];
        const c = cd[co + j * cs];
        const s = sd[so + j * ss];
        if (!inverse) {
          // r1 = a − b, r2 = c + d with a = x1·cos, b = x2·sin, c = x2·cos, d = x1·sin
          o[r * D + j] = fr(fr(x1 * c) - fr(x2 * s));
          o[r * D + j + h] = fr(fr(x2 * c) + fr(x1 * s));
        } else {
          // dx1 = g1·cos + g2·sin, dx2 = g2·cos + (−g1)·sin
          o[r * D + j] = fr(fr(x1 * c) + fr(x2 * s));
          o[r * D + j + h] = fr(fr(x2 * c) + fr(-x1 * s));
        }
      }
    }
  };
}

async function sftChild() {
  const variant = value("--sft-child");
  const data = value("--data");
  const out = value("--out");
  const steps = Number(value("--steps", 4));
  const threads = Number(value("--threads", 2));
  const backend = await T.init({ backend: value("--backend", "cpu-wasm"), threads });
  const { trainSft } = await import("@sr2se/vlm");
  if (variant === "composed") {
    roundLikeComposed(backend);
    // the emulation must match the composed ops bit for bit, forward and backward
    const gen = new T.Generator(7);
    const xh = new Float32Array(2 * 5 * 4 * 32).map(() => gen.normal());
    const gh = new Float32Array(xh.length).map(() => gen.normal());
    const res = [];
    for (const f of [T.rope, composedRope]) {
      const xl = T.tensor(xh, { shape: [2, 5, 4, 32] });
      xl.requiresGrad = true;
      const y = f(xl.transpose(1, 2), 3, { base: 10000 });
      y.backward(T.tensor(gh, { shape: y.shape }));
      res.push([...(await y.data()), ...(await xl.grad.data())]);
    }
    const same = res[0].every((v, i) => Object.is(v, res[1][i]));
    if (!same) throw new Error("rope-compare: the composed-rounding emulation differs from composedRope");
  }
  const rows = [];
  // the weights every `every` steps: trainSft saves them after step k·every, before the next row
  const every = Number(value("--snapshot-every", 0));
  const snapshots = [];
  const model = join(out, "checkpoint", "model.safetensors");
  await trainSft({
    data,
    out,
    progress: false,
    stopAfter: steps,
    config: {
      training: {
        vision_pretrain_steps: Number(value("--vision-steps", 400)),
        eval_every: 1e9,
        save_every: every > 0 ? every : 1e9,
      },
    },
    onStep: (r) => {
      rows.push({ step: r.step, loss: r.loss, grad_norm: r.grad_norm });
      if (every > 0 && r.step > 1 && (r.step - 1) % every === 0) {
        const file = join(out, `weights-${r.step - 1}.safetensors`);
        writeFileSync(file, readFileSync(model));
        snapshots.push({ step: r.step - 1, file });
      }
    },
  });
  snapshots.push({ step: rows.length, file: model });
  const result = {
    variant,
    backend: backend.name,
    threads,
    rows,
    snapshots,
    sha256: createHash("sha256").update(readFileSync(model)).digest("hex"),
  };
  writeFileSync(join(out, "result.json"), JSON.stringify(result));
  process.exit(0);
}

/** Resolves to a child SFT run's result: its rows, and its weights at each snapshot. */
async function runChild(variant, opts, tag) {
  const out = mkdtempSync(join(tmpdir(), `rope-sft-${tag}-`));
  const child = spawn(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      "--sft-child",
      variant,
      "--data",
      opts.data,
      "--out",
      out,
      "--steps",
      String(opts.steps),
      "--vision-steps",
      String(opts.visionSteps),
      "--threads",
      String(opts.threads),
      "--backend",
      opts.backend,
      "--snapshot-every",
      String(opts.snapshotEvery),
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  const code = await new Promise((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`rope-compare: the ${variant} SFT child exited with ${code}`);
  const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
  result.snapshots = result.snapshots.map((s) => ({
    step: s.step,
    weights: parseSafetensors(readFileSync(s.file)),
  }));
  result.weights = result.snapshots[result.snapshots.length - 1].weights;
  rmSync(out, { recursive: true, force: true });
  return result;
}

/** Returns name → Float32Array of a safetensors file's float32 tensors. */
function parseSafetensors(bytes) {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
  const out = new Map();
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__" || info.dtype !== "F32") continue;
    const [a, b] = info.data_offsets;
    const slice = bytes.subarray(8 + n + a, 8 + n + b);
    out.set(
      name,
      new Float32Array(slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.byteLength)),
    );
  }
  return out;
}

/** Returns the relative L2 distance between two runs' weights, over all tensors. */
function weightDistance(a, b) {
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  for (const [name, wa] of a) {
    const wb = b.get(name);
    for (let i = 0; i < wa.length; i++) {
      const d = wa[i] - wb[i];
      num += d * d;
      den += wa[i] * wa[i];
      if (Math.abs(d) > maxAbs) maxAbs = Math.abs(d);
    }
  }
  return { rel: Math.sqrt(num / den), maxAbs };
}

function sftOptions(defaultSteps) {
  const data = value("--data");
  if (!data)
    throw new Error("rope-compare: --data <dataset folder> is required (e.g. sr2se data synth --out …)");
  return {
    data,
    steps: Number(value("--steps", defaultSteps)),
    visionSteps: Number(value("--vision-steps", 400)),
    threads: Number(value("--threads", 2)),
    backend: value("--backend", "cpu-wasm"),
    snapshotEvery: Number(value("--snapshot-every", 0)),
  };
}

/** Runs the fused-rope SFT twice in separate processes and says whether the two agree bit for bit. */
async function determinism() {
  const o = sftOptions(4);
  console.log(
    `SFT determinism: ${o.steps} steps after ${o.visionSteps} vision steps, ${o.backend}, ${o.threads} threads, two processes`,
  );
  const [a, b] = await Promise.all([runChild("fused", o, "a"), runChild("fused", o, "b")]);
  for (let i = 0; i < a.rows.length; i++) {
    const ra = a.rows[i];
    const rb = b.rows[i];
    console.log(
      `  step ${ra.step}: loss ${ra.loss} / ${rb.loss}  grad_norm ${ra.grad_norm} / ${rb.grad_norm}${ra.loss === rb.loss && ra.grad_norm === rb.grad_norm ? "" : "  DIFFER"}`,
    );
  }
  const d = weightDistance(a.weights, b.weights);
  console.log(
    `  weights: ${a.sha256 === b.sha256 ? "bit-identical" : `differ (rel L2 ${d.rel.toExponential(2)}, max|Δ| ${d.maxAbs.toExponential(2)})`} (sha256 ${a.sha256.slice(0, 16)} / ${b.sha256.slice(0, 16)})`,
  );
}

/** Runs SFT from the same init with the fused rope and with the composed ops' rounding; prints how they part. */
async function trajectory() {
  const o = sftOptions(Number(value("--trajectory", 50)));
  console.log(
    `SFT trajectory, fused rope vs the same kernel rounding as the composed ops: ${o.steps} steps after ${o.visionSteps} vision steps (same init), ${o.backend}, ${o.threads} threads`,
  );
  const [f, c] = await Promise.all([runChild("fused", o, "fused"), runChild("composed", o, "composed")]);
  console.log("  step  loss fused        loss composed     |Δloss|    grad_norm fused / composed");
  for (let i = 0; i < f.rows.length; i++) {
    const rf = f.rows[i];
    const rc = c.rows[i];
    console.log(
      `  ${String(rf.step).padStart(4)}  ${rf.loss.toFixed(9).padEnd(16)}  ${rc.loss.toFixed(9).padEnd(16)}  ${Math.abs(rf.loss - rc.loss).toExponential(2)}  ${rf.grad_norm.toFixed(6)} / ${rc.grad_norm.toFixed(6)}`,
    );
  }
  for (let i = 0; i < f.snapshots.length; i++) {
    const d = weightDistance(f.snapshots[i].weights, c.snapshots[i].weights);
    console.log(
      `  weights after ${String(f.snapshots[i].step).padStart(4)} steps: rel L2 ${d.rel.toExponential(2)}, max|Δ| ${d.maxAbs.toExponential(2)}`,
    );
  }
}

if (flag("--sft-child")) await sftChild();
else if (flag("--determinism")) await determinism();
else if (flag("--trajectory")) await trajectory();
else {
  await opComparison();
  process.exit(0);
}
