import { createRequire } from "node:module";
import { chooseDevice } from "@sr2se/tensor";
import type { Command } from "commander";
import { probeWebGpu, type WebGpuReport } from "../doctor/webgpu-probe.js";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** A failed required check makes the install broken (non-zero exit). */
  required: boolean;
}

/** Registers `sr2se doctor`. */
export function register(program: Command): void {
  program
    .command("doctor")
    .description(
      "check the install: Node, platform, sharp/libvips, the WebGPU adapter, the device sr2se will use",
    )
    .option("--json", "print the report as JSON")
    .addHelpText("after", "\nExample:\n  $ npx sr2se doctor\n  $ npx sr2se doctor --json")
    .action(async (opts: { json?: boolean }) => {
      const checks: Check[] = [];
      const major = Number(process.versions.node.split(".")[0]);
      checks.push({
        name: "node",
        ok: major >= 20,
        detail: `${process.version} (needs 20 or newer)`,
        required: true,
      });
      checks.push({
        name: "platform",
        ok: true,
        detail: `${process.platform}-${process.arch}`,
        required: false,
      });

      const require = createRequire(import.meta.url);
      try {
        const sharp = require("sharp") as { versions: Record<string, string> };
        checks.push({
          name: "sharp",
          ok: true,
          detail: `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}`,
          required: true,
        });
      } catch (err) {
        checks.push({
          name: "sharp",
          ok: false,
          detail: `cannot load sharp: ${(err as Error).message.split("\n")[0]} (fix: npm ci)`,
          required: true,
        });
      }

      const gpu = await probeWebGpu();
      const wasmSimd = wasmSimdSupported();
      checks.push({
        name: "wasm-simd",
        ok: wasmSimd,
        detail: wasmSimd
          ? "WebAssembly SIMD and shared memory: the fast CPU backend is available"
          : "no WebAssembly SIMD or shared memory: the reference CPU backend will be used",
        required: false,
      });
      if (gpu.usable && gpu.adapter) {
        const a = gpu.adapter;
        const l = gpu.limits ?? {};
        checks.push({
          name: "webgpu",
          ok: true,
          detail:
            `${a.description || a.device}${/llvmpipe/i.test(a.description + a.device) ? " = Mesa lavapipe" : ""} (vendor ${a.vendor}, ${a.isFallback ? "software fallback" : "hardware"} adapter, architecture ${a.architecture}); ` +
            `maxBufferSize ${l.maxBufferSize}, maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, ` +
            `maxComputeWorkgroupStorageSize ${l.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}; ` +
            `shader-f16 ${gpu.features?.includes("shader-f16") ? "yes" : "no"}; ${subgroups(gpu)}`,
          required: false,
        });
      } else {
        checks.push({
          name: "webgpu",
          ok: false,
          detail: `not usable: ${gpu.reason}. Fix: ${gpu.fix}`,
          required: false,
        });
      }
      const choice = chooseDevice({
        adapter: gpu.adapter
          ? {
              description: gpu.adapter.description || gpu.adapter.device,
              isFallbackAdapter: gpu.adapter.isFallback,
            }
          : null,
        adapterError: gpu.reason,
        wasmSimd,
      });
      checks.push({
        name: "device",
        ok: true,
        detail: `${choice.device} (backend ${choice.backend}): ${choice.reason}`,
        required: false,
      });

      const broken = checks.filter((c) => c.required && !c.ok);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ ok: broken.length === 0, checks, webgpu: gpu, device: choice }, null, 2)}\n`,
        );
      } else {
        for (const c of checks)
          process.stdout.write(
            `${c.ok ? "ok  " : c.required ? "FAIL" : "warn"} ${c.name.padEnd(9)} ${c.detail}\n`,
          );
      }
      if (broken.length > 0) {
        throw new Error(`broken install: ${broken.map((c) => `${c.name}: ${c.detail}`).join("; ")}`);
      }
    });
}

/** The adapter's subgroups and the matmul kernel they give a CPU-like adapter. */
function subgroups(gpu: WebGpuReport): string {
  const a = gpu.adapter;
  if (!gpu.features?.includes("subgroups") || !a?.subgroupMinSize) return "no subgroups";
  const { subgroupMinSize: lo, subgroupMaxSize: hi } = a;
  const size = lo === hi ? `size ${lo}` : `sizes ${lo}–${hi}`;
  const kernel = a.isFallback ? (lo === hi ? "subgroup" : "register") : "tiled";
  return `subgroups (${size}): matmul kernel "${kernel}"`;
}

/** Whether this engine runs WebAssembly SIMD (a popcnt module validates) and has shared memory. */
function wasmSimdSupported(): boolean {
  const simd = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98,
    11,
  ]);
  return typeof SharedArrayBuffer === "function" && WebAssembly.validate(simd);
}
