// The device rule when none is named: a hardware GPU adapter means WebGPU; a software fallback adapter
// (lavapipe, SwiftShader, WARP) or none means the CPU, where the fast WebAssembly kernels beat WGSL run
// on a software rasterizer by an order of magnitude (measured: about 100 vs 10 GFLOP/s on two cores).
import type { DeviceName } from "./backend.js";

/** What a probe of the machine found. */
export interface DeviceProbe {
  /** The WebGPU adapter, or null when there is none (no WebGPU, no driver). */
  adapter: { description: string; isFallbackAdapter: boolean } | null;
  /** Why there is no adapter, when there is none. */
  adapterError?: string;
  /** Whether WebAssembly SIMD and shared memory work here (the fast CPU backend). */
  wasmSimd: boolean;
}

/** A device decision and the reason for it, in words `sr2se doctor` prints. */
export interface DeviceChoice {
  device: DeviceName;
  /** The registry name of the backend to load: "webgpu", "cpu-wasm" or "cpu". */
  backend: string;
  reason: string;
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|warp|software|microsoft basic render/i;

/** Returns the device to use when none is named, given a probe of the machine. */
export function chooseDevice(probe: DeviceProbe): DeviceChoice {
  const cpuBackend = probe.wasmSimd ? "cpu-wasm" : "cpu";
  const cpuWords = probe.wasmSimd
    ? "the fast CPU backend (WebAssembly SIMD on worker threads)"
    : "the reference CPU backend (this engine lacks WebAssembly SIMD or shared memory)";
  const a = probe.adapter;
  if (!a) {
    const why = probe.adapterError ? `no WebGPU adapter (${probe.adapterError})` : "no WebGPU adapter";
    return { device: "cpu", backend: cpuBackend, reason: `${why}: using ${cpuWords}` };
  }
  const name = a.description || "unnamed adapter";
  if (a.isFallbackAdapter || SOFTWARE_NAMES.test(name)) {
    return {
      device: "cpu",
      backend: cpuBackend,
      reason: `the only WebGPU adapter is a software fallback (${name}), slower than the CPU kernels: using ${cpuWords}`,
    };
  }
  return { device: "webgpu", backend: "webgpu", reason: `hardware WebGPU adapter ${name}: using WebGPU` };
}

// Dawn frees its instance when the GPU object is collected: keep the probe's alive.
const probes: unknown[] = [];

/** Resolves to a probe of this machine: the WebGPU adapter (without creating a device) and WASM SIMD support. */
export async function probeDevices(): Promise<DeviceProbe> {
  const { simdSupported } = await import("./wasm/module.js");
  const wasmSimd = simdSupported();
  try {
    let gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!gpu && typeof process !== "undefined" && process.versions?.node) {
      const name = "webgpu";
      const mod = (await import(/* @vite-ignore */ name)) as { create: (flags: string[]) => GPU };
      gpu = mod.create([]);
      probes.push(gpu);
    }
    if (!gpu) return { adapter: null, adapterError: "this engine has no navigator.gpu", wasmSimd };
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) return { adapter: null, adapterError: "requestAdapter() returned null", wasmSimd };
    const info = (adapter as { info?: GPUAdapterInfo }).info;
    const description = [info?.vendor, info?.architecture, info?.device, info?.description]
      .filter(Boolean)
      .join(" ");
    const isFallbackAdapter =
      (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
      (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
    return { adapter: { description, isFallbackAdapter }, wasmSimd };
  } catch (err) {
    return { adapter: null, adapterError: (err as Error).message.split("\n")[0], wasmSimd };
  }
}

/** Resolves to the device to use on this machine when none is named, with the reason. */
export async function autoDevice(): Promise<DeviceChoice> {
  return chooseDevice(await probeDevices());
}
