import { describe, expect, it } from "vitest";
import { autoDevice, chooseDevice } from "../../src/backend/select.js";

describe("device choice with no device named", () => {
  it("uses WebGPU on a hardware adapter", () => {
    const c = chooseDevice({
      adapter: { description: "nvidia ampere", isFallbackAdapter: false },
      wasmSimd: true,
    });
    expect(c.device).toBe("webgpu");
    expect(c.reason).toContain("nvidia ampere");
  });

  it("uses the fast CPU backend when the only adapter is a software fallback", () => {
    const flagged = chooseDevice({
      adapter: { description: "mesa", isFallbackAdapter: true },
      wasmSimd: true,
    });
    const named = chooseDevice({
      adapter: { description: "mesa llvmpipe (LLVM 19)", isFallbackAdapter: false },
      wasmSimd: true,
    });
    for (const c of [flagged, named]) {
      expect(c).toMatchObject({ device: "cpu", backend: "cpu-wasm" });
      expect(c.reason).toContain("software fallback");
    }
  });

  it("uses the CPU without an adapter, the reference kernels without WebAssembly SIMD", () => {
    expect(chooseDevice({ adapter: null, adapterError: "no driver", wasmSimd: true })).toMatchObject({
      device: "cpu",
      backend: "cpu-wasm",
    });
    const c = chooseDevice({ adapter: null, wasmSimd: false });
    expect(c.backend).toBe("cpu");
    expect(c.reason).toContain("lacks WebAssembly SIMD");
  });

  it("probes this machine and names the reason", async () => {
    const c = await autoDevice();
    expect(["cpu", "webgpu"]).toContain(c.device);
    expect(c.reason.length).toBeGreaterThan(10);
  });
});
