// Runs a test suite once per backend (candle's device macro, as a describe.each).
// "cpu" (the TypeScript reference) always runs; every other registered backend runs when it loads
// on this machine. One that cannot load is skipped with its reason in the test name, and is a
// failing test under CI=true, so CI never silently loses a backend.
import { afterAll, beforeAll, describe, it } from "vitest";
import { backendDevice, loadBackend } from "../src/backend/registry.js";
import { type Backend, type DeviceName, defaultBackend, init, registeredBackends } from "../src/index.js";

/** One backend a suite runs on. */
export interface BackendCase {
  name: string;
  device: DeviceName;
  /** The loaded backend, or null with `reason` when it cannot run here. */
  backend: Backend | null;
  reason?: string;
}

async function probe(name: string): Promise<BackendCase> {
  const device = backendDevice(name) ?? "cpu";
  try {
    const backend = await loadBackend(name);
    return { name, device, backend };
  } catch (err) {
    return { name, device, backend: null, reason: (err as Error).message.split("\n")[0] };
  }
}

// SR2SE_TEST_BACKENDS=cpu,cpu-wasm limits the run to the listed backends.
const only = process.env.SR2SE_TEST_BACKENDS?.split(",").filter(Boolean);
const wanted = only ?? registeredBackends();
// webgpu is expected even before part 2 registers it, so its absence shows up as a skip.
if (!only && !wanted.includes("webgpu")) wanted.push("webgpu");

/** Every backend case, loaded once per test file. */
export const backends: BackendCase[] = await Promise.all(
  wanted.map((name) =>
    registeredBackends().includes(name)
      ? probe(name)
      : Promise.resolve<BackendCase>({ name, device: "webgpu", backend: null, reason: "not registered" }),
  ),
);

/**
 * Declares `suite` once per backend inside a describe named after it; the default device is switched
 * to that backend for the duration of the suite. Only the listed backend names run when `only` is given.
 */
export function describeBackends(title: string, suite: (c: BackendCase) => void, only?: string[]): void {
  for (const c of backends) {
    if (only && !only.includes(c.name)) continue;
    if (!c.backend) {
      if (process.env.CI === "true") {
        describe(`${title} [${c.name}]`, () => {
          it("backend is available in CI", () => {
            throw new Error(`backend ${c.name} unavailable: ${c.reason}`);
          });
        });
      } else {
        describe.skip(`${title} [${c.name}: skipped, ${c.reason}]`, () => {
          it("unavailable", () => {});
        });
      }
      continue;
    }
    describe(`${title} [${c.name}]`, () => {
      let previous: string | undefined;
      beforeAll(async () => {
        previous = currentBackendName();
        await init({ backend: c.name });
      });
      afterAll(async () => {
        if (previous) await init({ backend: previous });
      });
      suite(c);
    });
  }
}

function currentBackendName(): string | undefined {
  try {
    return defaultBackend().name;
  } catch {
    return undefined;
  }
}
