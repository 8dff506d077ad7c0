// The build every workspace package shares: ESM for Node 20 with declarations and source maps.
import { defineConfig, type Options } from "tsup";

/** Returns a package's tsup config: its entry points, and whether chunks shared by several are split out. */
export function packageBuild(entry: string[], options: Pick<Options, "splitting" | "banner"> = {}) {
  return defineConfig({
    entry,
    format: ["esm"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "node20",
    splitting: false,
    ...options,
  });
}
