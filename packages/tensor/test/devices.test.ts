// What a device name means: "cpu" and "webgpu" are devices and resolve to the backend `init` made
// active for them (as in PyTorch); a backend's own name picks that backend on purpose.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import * as T from "../src/index.js";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");

afterAll(async () => {
  await T.init({ backend: "cpu" });
});

describe('device "cpu"', () => {
  it("means the fast CPU backend after init({ device: 'cpu' })", async () => {
    const active = await T.init({ device: "cpu" });
    expect(active.name).toBe("cpu-wasm");
    const x = T.randn([4, 2], { device: "cpu", seed: 1 });
    const w = T.ones([2, 16], { device: "cpu" });
    expect(x.backend).toBe(active);
    expect(w.backend).toBe(active);
    expect(T.matmul(x, w).backend).toBe(active);
  });

  it("feeds a tensor made with device 'cpu' to an nn.Linear made on the default device", async () => {
    await T.init({ device: "cpu" });
    const layer = new T.nn.Linear(2, 16, { seed: 3 });
    const x = T.randn([4, 2], { device: "cpu", seed: 2 });
    const y = layer.forward(x) as T.Tensor;
    expect(y.shape).toEqual([4, 16]);
    const ref = (await (await x.toDevice(new T.CpuBackend())).toArray()) as number[][];
    const wt = (await layer.weight.toArray()) as number[][];
    const b = (await layer.bias!.toArray()) as number[];
    const got = (await y.toArray()) as number[][];
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 16; j++)
        expect(got[i][j]).toBeCloseTo(ref[i][0] * wt[j][0] + ref[i][1] * wt[j][1] + b[j], 5);
    layer.dispose();
  });

  it("means the reference backend after init({ backend: 'cpu' }); 'cpu-wasm' still names the fast one", async () => {
    const fast = await T.init({ device: "cpu" });
    const reference = await T.init({ backend: "cpu" });
    expect(reference.name).toBe("cpu");
    expect(T.zeros([2], { device: "cpu" }).backend).toBe(reference);
    expect(T.zeros([2], { device: "cpu-wasm" }).backend).toBe(fast);
  });

  it("throws naming the backends loaded for an unknown name", () => {
    expect(() => T.zeros([2], { device: "tpu" })).toThrow(/unknown device "tpu" \(expected "cpu", "webgpu"/);
  });
});

describe("kernel workers", () => {
  it("start in a script run with node --input-type=module -e", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sr2se-tensor-esm-"));
    try {
      const out = join(dir, "tensor.mjs");
      await build({
        entryPoints: [join(pkg, "src", "index.ts")],
        bundle: true,
        format: "esm",
        platform: "node",
        external: ["webgpu", "@sr2se/core"],
        outfile: out,
        logLevel: "silent",
      });
      const script = `
        const T = await import(${JSON.stringify(pathToFileURL(out).href)});
        const b = await T.init({ device: "cpu", threads: 2 });
        const x = T.ones([64, 64], { device: "cpu" });
        const s = await T.matmul(x, x).sum().item();
        console.log(JSON.stringify({ backend: b.name, threads: b.runtime.threads, sum: s }));
        b.dispose();`;
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        cwd: pkg,
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(r.stderr).not.toContain("failed");
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout.trim().split("\n").pop()!)).toEqual({
        backend: "cpu-wasm",
        threads: 2,
        sum: 64 * 64 * 64,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
