import type { Backend, DeviceName } from "./backend.js";

/** Options passed to a backend factory by `init`. */
export interface BackendInitOptions {
  /** Backend-specific settings (e.g. WebGPU power preference, worker count). */
  [key: string]: unknown;
}

/** Creates a backend; called once per registry key, the first time `init` or a test asks for it. */
export type BackendFactory = (options: BackendInitOptions) => Promise<Backend>;

interface Entry {
  device: DeviceName;
  factory: BackendFactory;
  /** Lower wins when a device has several backends and none is named. */
  priority: number;
  instance?: Promise<Backend>;
}

const registry = new Map<string, Entry>();

/**
 * Registers a backend under `name` for `device`. A backend module registers itself from the lazy
 * loader list in `loaders.ts`, so users of one device never load another's code (Dawn, WASM).
 */
export function registerBackend(
  name: string,
  device: DeviceName,
  factory: BackendFactory,
  priority = 10,
): void {
  registry.set(name, { device, factory, priority });
}

/** Returns the registered backend names, best first within each device. */
export function registeredBackends(): string[] {
  return [...registry.entries()].sort((a, b) => a[1].priority - b[1].priority).map(([name]) => name);
}

/** Returns the default backend name for a device: SR2SE_CPU_BACKEND / SR2SE_WEBGPU_BACKEND override the priority order. */
export function defaultBackendName(device: DeviceName): string {
  const env = typeof process !== "undefined" ? process.env : {};
  const forced = device === "cpu" ? env.SR2SE_CPU_BACKEND : env.SR2SE_WEBGPU_BACKEND;
  if (forced) {
    if (!registry.has(forced))
      throw new Error(`init: backend "${forced}" (from the environment) is not registered`);
    return forced;
  }
  const names = registeredBackends().filter((n) => registry.get(n)!.device === device);
  if (names.length === 0) throw new Error(`init: no backend is registered for device "${device}"`);
  return names[0];
}

/** Resolves to the (single, cached) instance of a registered backend. */
export function loadBackend(name: string, options: BackendInitOptions = {}): Promise<Backend> {
  const entry = registry.get(name);
  if (!entry) {
    throw new Error(`init: unknown backend "${name}" (registered: ${registeredBackends().join(", ")})`);
  }
  if (!entry.instance) {
    entry.instance = entry.factory(options).catch((err) => {
      entry.instance = undefined;
      throw err;
    });
  }
  return entry.instance;
}

/** Returns the device a registered backend serves, or undefined for an unknown name. */
export function backendDevice(name: string): DeviceName | undefined {
  return registry.get(name)?.device;
}
