// The default device and the loaded backends. The CPU reference backend is always present, so code
// that never calls `init` runs on the CPU.
import type { Backend, DeviceName } from "./backend/backend.js";
import { referenceBackend } from "./backend/cpu/index.js";
import { registerBuiltinBackends } from "./backend/loaders.js";
import {
  type BackendInitOptions,
  backendDevice,
  defaultBackendName,
  loadBackend,
} from "./backend/registry.js";

registerBuiltinBackends();
const reference = referenceBackend();
const loaded = new Map<string, Backend>([["cpu", reference]]);
const byDevice = new Map<DeviceName, Backend>([["cpu", reference]]);
let current: Backend = reference;

/** Options of `init`. */
export interface InitOptions extends BackendInitOptions {
  /** "cpu" or "webgpu": the best registered backend of that device. */
  device?: DeviceName;
  /**
   * A backend by registry name ("cpu" is the TypeScript reference, "cpu-wasm", "webgpu"); overrides
   * `device`. It becomes the active backend of its device, so later `device: "cpu"` options mean it.
   */
  backend?: string;
}

/** Loads a backend and makes it the default for new tensors and modules; resolves to the backend. */
export async function init(options: InitOptions = {}): Promise<Backend> {
  const { device, backend: named, ...rest } = options;
  if (device !== undefined && device !== "cpu" && device !== "webgpu") {
    throw new Error(`init: unknown device "${String(device)}" (expected "cpu" or "webgpu")`);
  }
  const name = named ?? defaultBackendName(device ?? "cpu");
  let b: Backend;
  try {
    b = name === "cpu" ? reference : await loadBackend(name, rest);
  } catch (err) {
    // a CPU device always has the reference backend to fall back on; a named backend does not
    if (named !== undefined || (device ?? "cpu") !== "cpu") throw err;
    console.warn(
      `init: backend "${name}" failed to load (${(err as Error).message.split("\n")[0]}); using the reference "cpu"`,
    );
    return init({ ...rest, backend: "cpu" });
  }
  loaded.set(name, b);
  byDevice.set(backendDevice(name) ?? b.device, b);
  current = b;
  return b;
}

/** Returns the backend new tensors go to when no device is given. */
export function defaultBackend(): Backend {
  return current;
}

/**
 * Returns the backend a `device` option names: "cpu" and "webgpu" are devices and mean the backend
 * `init` made active for that device (cpu-wasm after `init({ device: "cpu" })`), as in PyTorch; any
 * other string is a loaded backend asked for by its registry name; undefined is the default. Throws
 * when the device or backend is not initialised.
 */
export function resolveBackend(device?: string | Backend): Backend {
  if (device === undefined) return current;
  if (typeof device === "object") return device;
  if (device === "cpu" || device === "webgpu") {
    const b = byDevice.get(device);
    if (b) return b;
    throw new Error(`device "${device}" is not initialised: call await init({ device: "${device}" }) first`);
  }
  const b = loaded.get(device);
  if (b) return b;
  throw new Error(
    `unknown device "${device}" (expected "cpu", "webgpu" or a backend loaded by init: ${[...loaded.keys()].join(", ")})`,
  );
}
