/// <reference types="@webgpu/types" />

/** What `init({ device: "webgpu" })` found: the adapter behind the device. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software rasterizers (lavapipe, SwiftShader, WARP): CPU-like execution. */
  isFallbackAdapter: boolean;
  /**
   * Which matmul variant suits the adapter: for CPU-like adapters, register blocking whose rows are
   * shared across a subgroup (`subgroup`, where the subgroup size is fixed) or across a workgroup's
   * lanes (`register`); shared-memory tiling (`tiled`) for real GPUs.
   */
  matmulVariant: MatmulVariant;
  /** The subgroup size when the device has subgroups and the size is fixed, else null. */
  subgroupSize: number | null;
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupsPerDimension: number;
    minStorageBufferOffsetAlignment: number;
    minUniformBufferOffsetAlignment: number;
  };
}

/** The matmul kernel families: see `AdapterReport.matmulVariant`. */
export type MatmulVariant = "subgroup" | "register" | "tiled";

/** A device plus what we learnt about its adapter, and the first fatal error it reported. */
export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterReport;
  /** Set when the device was lost or raised an uncaptured error; every later op rethrows it. */
  fatal: Error | null;
  /** The GPU object (Dawn's instance in Node): held so it outlives the device, or Dawn crashes in its event loop. */
  gpu: GPU;
}

// Dawn for Node frees its instance when the GPU object is collected, even with a live device.
const liveInstances = new Set<GPU>();

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|warp|software|microsoft basic render/i;

/** Returns `navigator.gpu` in a browser, or Dawn's GPU from the `webgpu` package in Node. */
async function findGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const isNode = typeof process !== "undefined" && !!process.versions?.node;
  if (!isNode) {
    throw new Error(
      'webgpu: navigator.gpu is missing: this browser has no WebGPU (Chromium needs a secure context, or "--enable-unsafe-webgpu")',
    );
  }
  let mod: { create: (flags: string[]) => GPU; globals: object };
  try {
    // A variable specifier keeps bundlers from pulling Dawn into browser builds.
    const name = "webgpu";
    mod = (await import(/* @vite-ignore */ name)) as typeof mod;
  } catch (err) {
    throw new Error(
      `webgpu: the "webgpu" package (Dawn for Node) could not be loaded: ${(err as Error).message}`,
    );
  }
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in g)) g[k] = v;
  const gpu = mod.create([]);
  liveInstances.add(gpu);
  return gpu;
}

/** Returns the adapter's report: vendor and type, software fallback or not, the limits we asked for. */
function describeAdapter(adapter: GPUAdapter, limits: GPUSupportedLimits): AdapterReport {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const vendor = info?.vendor ?? "";
  const architecture = info?.architecture ?? "";
  const device = info?.device ?? "";
  const description = info?.description ?? "";
  const flagged = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const named = SOFTWARE_NAMES.test(`${vendor} ${architecture} ${device} ${description}`);
  const isFallbackAdapter =
    flagged || named || (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
  return {
    vendor,
    architecture,
    device,
    description,
    isFallbackAdapter,
    matmulVariant: isFallbackAdapter ? "register" : "tiled",
    subgroupSize: null,
    limits: {
      maxBufferSize: limits.maxBufferSize,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      minStorageBufferOffsetAlignment: limits.minStorageBufferOffsetAlignment,
      minUniformBufferOffsetAlignment: limits.minUniformBufferOffsetAlignment,
    },
  };
}

/** Options for acquiring the device. */
export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Force a matmul variant instead of choosing by adapter (benchmarks and tests). */
  matmulVariant?: MatmulVariant;
  /**
   * Treat storage bindings as capped at this many bytes (below the adapter's own cap): ops then
   * split or stage operands past it, as they do past 128 MiB. For tests, and to mimic a smaller adapter.
   */
  maxBindingBytes?: number;
  /** Ask for timestamp queries (per-kernel GPU times, see `GpuRuntime.profile`). */
  profile?: boolean;
}

/** Returns a WebGPU device with the adapter's larger limits, its errors routed to `fatal`. */
export async function acquireDevice(opts: AcquireOptions = {}): Promise<GpuContext> {
  const gpu = await findGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? "high-performance" });
  if (!adapter) {
    throw new Error(
      "webgpu: no adapter: requestAdapter() returned null (no Vulkan/Metal/D3D12 driver, or WebGPU disabled; on Linux install mesa-vulkan-drivers for lavapipe)",
    );
  }
  const want = [
    "maxBufferSize",
    "maxStorageBufferBindingSize",
    "maxComputeWorkgroupStorageSize",
    "maxComputeInvocationsPerWorkgroup",
    "maxComputeWorkgroupSizeX",
    "maxComputeWorkgroupSizeY",
    "maxStorageBuffersPerShaderStage",
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of want) {
    const v = adapter.limits[k];
    if (typeof v === "number") requiredLimits[k] = v;
  }
  let device: GPUDevice;
  try {
    const requiredFeatures: GPUFeatureName[] =
      opts.profile && adapter.features.has("timestamp-query") ? ["timestamp-query"] : [];
    if (adapter.features.has("subgroups")) requiredFeatures.push("subgroups" as GPUFeatureName);
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (err) {
    throw new Error(
      `webgpu: requestDevice failed on adapter "${adapterName(adapter)}": ${(err as Error).message}`,
    );
  }
  const report = describeAdapter(adapter, device.limits);
  const info = (adapter as { info?: { subgroupMinSize?: number; subgroupMaxSize?: number } }).info;
  const sgMin = info?.subgroupMinSize;
  if (
    device.features.has("subgroups") &&
    sgMin &&
    sgMin === info?.subgroupMaxSize &&
    sgMin >= 4 &&
    sgMin <= 64
  ) {
    report.subgroupSize = sgMin;
    // one subgroup per workgroup shares A's rows by broadcast: far fewer per-lane loads on CPU-like adapters
    if (report.isFallbackAdapter) report.matmulVariant = "subgroup";
  }
  if (opts.maxBindingBytes !== undefined) {
    const cap = Math.floor(opts.maxBindingBytes / 256) * 256;
    if (!(cap >= 4096))
      throw new Error(`webgpu: maxBindingBytes must be at least 4096, got ${opts.maxBindingBytes}`);
    report.limits.maxStorageBufferBindingSize = Math.min(report.limits.maxStorageBufferBindingSize, cap);
  }
  if (opts.matmulVariant) {
    if (opts.matmulVariant === "subgroup" && report.subgroupSize === null) {
      throw new Error(
        `webgpu: matmulVariant "subgroup" needs the "subgroups" feature with a fixed subgroup size; adapter "${adapterName(adapter)}" has none`,
      );
    }
    report.matmulVariant = opts.matmulVariant;
  }
  const ctx: GpuContext = { device, adapter: report, fatal: null, gpu };
  device.addEventListener("uncapturederror", (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    if (!ctx.fatal) ctx.fatal = new Error(`webgpu: device error: ${e.message}`);
  });
  void device.lost.then((info) => {
    if (!ctx.fatal && info.reason !== "destroyed") {
      ctx.fatal = new Error(`webgpu: device lost (${info.reason}): ${info.message}`);
    }
    if (!ctx.fatal) ctx.fatal = new Error("webgpu: the device was destroyed");
  });
  return ctx;
}

function adapterName(adapter: GPUAdapter): string {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  return (
    [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(" ") || "unknown"
  );
}
