// Adds lockfile entries for platform-specific optional dependencies that the registry this lockfile
// was made against does not serve (a mirror that carries only some platforms). Without them
// `npm ci` refuses the lockfile ("Missing: @rollup/rollup-darwin-x64@ from lock file") on every
// machine. Each added entry carries the os/cpu/libc its name implies, so npm skips it on other
// platforms and fetches it by name and version where it matches. Idempotent.
//   node scripts/fix-lockfile.mjs          fix package-lock.json in place
//   node scripts/fix-lockfile.mjs --check  exit 1 if entries are missing
import fs from "node:fs";
import path from "node:path";

const file = path.resolve(import.meta.dirname, "..", "package-lock.json");
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
const pkgs = lock.packages;

const OS = [
  [/(^|[-/])(darwin|macos|mac)([-/]|$)/, "darwin"],
  [/(^|[-/])(win32|windows|win)([-/]|$)/, "win32"],
  [/(^|[-/])android([-/]|$)/, "android"],
  [/(^|[-/])freebsd([-/]|$)/, "freebsd"],
  [/(^|[-/])openbsd([-/]|$)/, "openbsd"],
  [/(^|[-/])netbsd([-/]|$)/, "netbsd"],
  [/(^|[-/])openharmony([-/]|$)/, "openharmony"],
  [/(^|[-/])sunos([-/]|$)/, "sunos"],
  [/(^|[-/])aix([-/]|$)/, "aix"],
  [/(^|[-/])linux([-/]|$)/, "linux"],
];
const CPU = [
  [/(^|-)(x64|amd64|64)(-|$)/, "x64"],
  [/(^|-)(arm64|aarch64)(-|$)/, "arm64"],
  [/(^|-)(arm|armv7|arm-eabi)(-|$)/, "arm"],
  [/(^|-)(ia32|x86|32)(-|$)/, "ia32"],
  [/(^|-)ppc64(le)?(-|$)/, "ppc64"],
  [/(^|-)riscv64(-|$)/, "riscv64"],
  [/(^|-)s390x(-|$)/, "s390x"],
  [/(^|-)loong64(-|$)/, "loong64"],
  [/(^|-)mips64el(-|$)/, "mips64el"],
  [/(^|-)wasm32(-|$)/, "wasm32"],
];

function platformOf(name) {
  const base = name.replace(/^@[^/]+\//, "");
  const out = {};
  for (const [re, os] of OS)
    if (re.test(base)) {
      out.os = [os];
      break;
    }
  for (const [re, cpu] of CPU)
    if (re.test(base)) {
      out.cpu = [cpu];
      break;
    }
  if (/musl/.test(base)) out.libc = ["musl"];
  else if (out.os?.[0] === "linux" && /gnu/.test(base)) out.libc = ["glibc"];
  if (!out.os && !out.cpu) return undefined;
  return out;
}

/** Where npm would look for `dep` required by the package at `from`: nested first, then up the tree. */
function resolved(from, dep) {
  let dir = from;
  for (;;) {
    const key = `${dir ? `${dir}/` : ""}node_modules/${dep}`;
    if (pkgs[key]) return true;
    if (!dir) return false;
    const i = dir.lastIndexOf("/node_modules/");
    dir = i >= 0 ? dir.slice(0, i) : "";
  }
}

const added = [];
const unknown = [];
for (const [key, entry] of Object.entries(pkgs)) {
  for (const [dep, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    if (resolved(key, dep)) continue;
    const platform = platformOf(dep);
    if (!platform || !/^\d+\.\d+\.\d+/.test(spec)) {
      unknown.push(`${dep}@${spec} (from ${key || "root"})`);
      continue;
    }
    const entryOut = { version: spec, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    pkgs[`node_modules/${dep}`] = entryOut;
    added.push(`${dep}@${spec} ${JSON.stringify(platform)}`);
  }
}

if (process.argv.includes("--check")) {
  if (added.length) {
    console.error(
      `package-lock.json lacks ${added.length} platform entries; run node scripts/fix-lockfile.mjs`,
    );
    process.exit(1);
  }
  process.exit(0);
}
if (added.length) {
  lock.packages = Object.fromEntries(
    Object.entries(pkgs).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
  );
  fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
}
console.error(
  `fix-lockfile: added ${added.length} platform entries${added.length ? `:\n  ${added.join("\n  ")}` : ""}`,
);
if (unknown.length)
  console.error(`fix-lockfile: could not place ${unknown.length}:\n  ${unknown.join("\n  ")}`);
