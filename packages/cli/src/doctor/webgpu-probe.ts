import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";

/** What the WebGPU probe found: an adapter, or the reason there is none and the command that fixes it. */
export interface WebGpuReport {
  usable: boolean;
  adapter?: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallback: boolean;
    /** Subgroup sizes the adapter may use (null where Dawn does not say). */
    subgroupMinSize?: number | null;
    subgroupMaxSize?: number | null;
  };
  limits?: Record<string, number>;
  features?: string[];
  reason?: string;
  fix?: string;
}

const PROBE = `
const [modPath] = process.argv.slice(1);
const { create } = await import(modPath);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) { process.stdout.write(JSON.stringify({ none: true })); process.exit(0); }
const i = adapter.info;
const l = adapter.limits;
const limits = {};
for (const k of ["maxBufferSize", "maxStorageBufferBindingSize", "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupSizeX", "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupsPerDimension"]) limits[k] = l[k];
const device = await adapter.requestDevice();
device.destroy();
process.stdout.write(JSON.stringify({
  adapter: { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description,
    subgroupMinSize: i.subgroupMinSize ?? null, subgroupMaxSize: i.subgroupMaxSize ?? null,
    isFallback: Boolean(i.isFallbackAdapter ?? adapter.isFallbackAdapter) || /llvmpipe|lavapipe|swiftshader|software/i.test(i.architecture + " " + i.description) },
  limits, features: [...adapter.features] }));
process.exit(0);
`;

/** Probes Dawn in a child process (a broken driver cannot take the CLI down) and explains a failure. */
export async function probeWebGpu(timeoutMs = 30_000): Promise<WebGpuReport> {
  let modPath: string;
  try {
    modPath = createRequire(import.meta.url).resolve("webgpu");
  } catch {
    return { usable: false, reason: "the `webgpu` package (Dawn for Node) is not installed", fix: "npm ci" };
  }
  const out = await new Promise<{ stdout: string; stderr: string; error?: Error }>((resolve) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", PROBE, modPath],
      { timeout: timeoutMs },
      (error, stdout, stderr) => resolve({ stdout, stderr, error: error ?? undefined }),
    );
  });
  let parsed:
    | {
        none?: boolean;
        adapter?: WebGpuReport["adapter"];
        limits?: Record<string, number>;
        features?: string[];
      }
    | undefined;
  try {
    parsed = JSON.parse(out.stdout);
  } catch {
    parsed = undefined;
  }
  if (parsed?.adapter)
    return { usable: true, adapter: parsed.adapter, limits: parsed.limits, features: parsed.features };
  const diagnosis = diagnoseVulkan();
  if (!parsed) {
    const detail = (out.error?.message ?? out.stderr).split("\n").find((l) => l.trim()) ?? "unknown error";
    return {
      usable: false,
      reason: `Dawn failed to start: ${detail.trim()}${diagnosis ? `; ${diagnosis.reason}` : ""}`,
      fix: diagnosis?.fix ?? "npm run setup:webgpu",
    };
  }
  return (
    diagnosis ?? {
      usable: false,
      reason: "Dawn found no WebGPU adapter although a Vulkan driver is installed",
      fix: "check the driver with `vulkaninfo --summary`",
    }
  );
}

/** Where to look for the Vulkan loader and drivers, and the installed Mesa major version. */
export interface VulkanSystem {
  libDirs: string[];
  icdDirs: string[];
  mesaMajor: () => number | undefined;
}

const SYSTEM: VulkanSystem = {
  libDirs: [
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib",
    "/usr/lib64",
    "/lib",
  ],
  icdDirs: ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"],
  mesaMajor: mesaVersion,
};

/** Why Dawn has no Vulkan adapter here, from what the system has installed (Linux), or undefined. */
export function diagnoseVulkan(system: VulkanSystem = SYSTEM): WebGpuReport | undefined {
  if (process.platform !== "linux") return undefined;
  const fix =
    "npm run setup:webgpu   (installs Mesa's lavapipe from bookworm-backports on Debian; prints what to install elsewhere)";
  const { libDirs, icdDirs } = system;
  const hasLoader = libDirs.some((d) => existsSync(`${d}/libvulkan.so.1`));
  if (!hasLoader) return { usable: false, reason: "no Vulkan loader (libvulkan.so.1) is installed", fix };
  const icds = icdDirs.flatMap((d) =>
    existsSync(d) ? readdirSync(d).filter((f) => f.endsWith(".json")) : [],
  );
  if (icds.length === 0) return { usable: false, reason: "no Vulkan driver (ICD) is installed", fix };
  const mesa = system.mesaMajor();
  if (mesa && mesa < 24)
    return {
      usable: false,
      reason: `Mesa ${mesa} is installed, and Dawn accepts Mesa's Vulkan drivers only from 24 on`,
      fix,
    };
  return undefined;
}

function mesaVersion(): number | undefined {
  try {
    const v = execFileSync("dpkg-query", ["-W", `-f=\${Version}`, "mesa-vulkan-drivers"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const m = /^(?:\d+:)?(\d+)/.exec(v);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
