import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { diagnoseVulkan } from "../src/doctor/webgpu-probe.js";
import { bin } from "./cli.js";

describe("sr2se doctor", () => {
  it("reports node, sharp and the WebGPU adapter (lavapipe in CI)", () => {
    const out = execFileSync(process.execPath, [bin, "doctor", "--json"], { encoding: "utf8" });
    const report = JSON.parse(out);
    expect(report.ok).toBe(true);
    const names = report.checks.map((c: { name: string }) => c.name);
    expect(names).toEqual(["node", "platform", "sharp", "wasm-simd", "webgpu", "device"]);
    if (process.env.CI === "true") {
      // CI installs lavapipe (scripts/setup-webgpu.sh): doctor must name it, and choose the CPU.
      expect(report.webgpu.usable).toBe(true);
      expect(report.webgpu.adapter.description).toMatch(/llvmpipe/);
      expect(report.webgpu.adapter.isFallback).toBe(true);
      // lavapipe runs 8-wide subgroups, which pick the subgroup matmul
      expect(report.webgpu.adapter.subgroupMinSize).toBe(8);
      const webgpu = report.checks.find((c: { name: string }) => c.name === "webgpu");
      expect(webgpu.detail).toMatch(/subgroups \(size 8\): matmul kernel "subgroup"/);
      expect(report.device.device).toBe("cpu");
      expect(report.device.backend).toBe("cpu-wasm");
      expect(report.device.reason).toMatch(/software fallback/);
    } else if (!report.webgpu.usable) {
      expect(report.webgpu.reason).toBeTruthy();
      expect(report.webgpu.fix).toBeTruthy();
    }
  });

  it("prints a plain report", () => {
    const out = execFileSync(process.execPath, [bin, "doctor"], { encoding: "utf8" });
    expect(out).toMatch(/^ok {3}node/m);
    expect(out).toMatch(/sharp 0\.\d+\.\d+, libvips \d/);
  });
});

describe("diagnoseVulkan", () => {
  const root = mkdtempSync(path.join(tmpdir(), "sr2se-vk-"));
  const lib = path.join(root, "lib");
  const icd = path.join(root, "icd");
  mkdirSync(lib);
  mkdirSync(icd);

  it("names a missing loader and the fix", () => {
    const r = diagnoseVulkan({ libDirs: [lib], icdDirs: [icd], mesaMajor: () => undefined });
    expect(r?.reason).toBe("no Vulkan loader (libvulkan.so.1) is installed");
    expect(r?.fix).toMatch(/^npm run setup:webgpu/);
  });

  it("names a missing driver", () => {
    writeFileSync(path.join(lib, "libvulkan.so.1"), "");
    const r = diagnoseVulkan({ libDirs: [lib], icdDirs: [icd], mesaMajor: () => undefined });
    expect(r?.reason).toBe("no Vulkan driver (ICD) is installed");
  });

  it("names a Mesa too old for Dawn", () => {
    writeFileSync(path.join(icd, "lvp_icd.x86_64.json"), "{}");
    const r = diagnoseVulkan({ libDirs: [lib], icdDirs: [icd], mesaMajor: () => 22 });
    expect(r?.reason).toMatch(/Mesa 22 is installed, and Dawn accepts .* only from 24 on/);
  });

  it("finds nothing wrong with a recent driver", () => {
    expect(diagnoseVulkan({ libDirs: [lib], icdDirs: [icd], mesaMajor: () => 25 })).toBeUndefined();
  });
});

describe("sr2se", () => {
  it("--help lists the commands", () => {
    const out = execFileSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
    expect(out).toMatch(/doctor/);
  });

  it("exits non-zero with a one-line error on an unknown command", () => {
    const r = spawnSync(process.execPath, [bin, "no-such-command"], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown command/);
  });
});
