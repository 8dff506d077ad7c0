// Runs a package's vitest suite under a time limit: `node ../../scripts/vitest-guard.mjs [--limit S] [vitest args]`.
//
// Twice a fresh-clone CI run stalled inside one package's suite with every thread asleep (no output,
// no CPU) and waited out CI's own limit. Until the cause is found, a run that makes no end within its
// limit (--limit seconds, else SR2SE_TEST_TIMEOUT_S, else 600) is diagnosed and killed, then run
// once more, so CI reports pass or fail instead of hanging. The diagnosis: every Node process of
// the run writes a diagnostic report (its JavaScript stack and its workers' stacks, through
// --report-on-signal), and the stacks are printed before the kill, so the next stall names its place.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const argv = process.argv.slice(2);
let limitS = Number(process.env.SR2SE_TEST_TIMEOUT_S ?? 600);
const li = argv.indexOf("--limit");
if (li >= 0) {
  limitS = Number(argv[li + 1]);
  argv.splice(li, 2);
}
if (!(limitS > 0)) {
  process.stderr.write("vitest-guard: --limit needs a positive number of seconds\n");
  process.exit(2);
}
// An explicit SR2SE_TEST_TIMEOUT_S wins over a package's --limit (a slow machine can raise every limit).
if (process.env.SR2SE_TEST_TIMEOUT_S && li >= 0)
  limitS = Math.max(limitS, Number(process.env.SR2SE_TEST_TIMEOUT_S));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The Node processes of the process group `pgid` (`ps`, Linux and macOS): only they handle the report signal. */
function groupNodePids(pgid) {
  try {
    return execFileSync("ps", ["-A", "-o", "pid=,pgid=,comm="], { encoding: "utf8" })
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter(([pid, g, comm]) => Number(g) === pgid && Number(pid) > 0 && comm === "node")
      .map(([pid]) => Number(pid));
  } catch {
    return [];
  }
}

/** Prints each thread's state and kernel wait channel (Linux /proc), for processes too blocked to report. */
function printThreads(pids) {
  for (const pid of pids) {
    try {
      const tasks = readdirSync(`/proc/${pid}/task`);
      const lines = tasks.map((t) => {
        const read = (f) => readFileSync(`/proc/${pid}/task/${t}/${f}`, "utf8").trim();
        const stat = read("stat");
        const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
        return `${read("comm")}:${state}:${read("wchan")}`;
      });
      process.stderr.write(`  pid ${pid} threads (name:state:wchan): ${lines.join(" ")}\n`);
    } catch {}
  }
}

/** Prints the JavaScript stacks of every report in `dir` (main thread, then workers). */
function printReports(dir) {
  let files = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  } catch {}
  if (files.length === 0) process.stderr.write("vitest-guard: no process wrote a diagnostic report\n");
  for (const f of files) {
    try {
      const r = JSON.parse(readFileSync(path.join(dir, f), "utf8"));
      const h = r.header ?? {};
      process.stderr.write(`\n--- pid ${h.processId}: ${(h.commandLine ?? []).join(" ").slice(0, 300)}\n`);
      const stack = (s) =>
        (s?.stack ?? [])
          .slice(0, 20)
          .map((l) => `    ${l}`)
          .join("\n");
      process.stderr.write(
        `  main thread: ${r.javascriptStack?.message ?? ""}\n${stack(r.javascriptStack)}\n`,
      );
      (r.workers ?? []).forEach((w, i) => {
        process.stderr.write(
          `  worker ${i}: ${w.javascriptStack?.message ?? ""}\n${stack(w.javascriptStack)}\n`,
        );
      });
      const handles = (r.libuv ?? []).filter((x) => x.is_active).map((x) => x.type);
      process.stderr.write(`  active handles: ${handles.join(", ") || "none"}\n`);
    } catch (err) {
      process.stderr.write(`vitest-guard: could not read report ${f}: ${err.message}\n`);
    }
  }
}

function once() {
  const reports = mkdtempSync(path.join(tmpdir(), "vitest-guard-"));
  const nodeOptions = [
    process.env.NODE_OPTIONS ?? "",
    "--report-on-signal",
    "--report-signal=SIGUSR2",
    `--report-directory=${reports}`,
  ]
    .join(" ")
    .trim();
  return new Promise((resolve) => {
    const child = spawn("npx", ["vitest", "run", ...argv], {
      stdio: "inherit",
      detached: true,
      env: { ...process.env, NODE_OPTIONS: nodeOptions },
    });
    let stalled = false;
    const timer = setTimeout(async () => {
      stalled = true;
      process.stderr.write(
        `\nvitest-guard: vitest made no end within ${limitS} s; its stacks, then a kill:\n`,
      );
      const pids = groupNodePids(child.pid);
      printThreads(pids);
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGUSR2");
        } catch {}
      }
      await sleep(5000);
      printReports(reports);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
      rmSync(reports, { recursive: true, force: true });
      resolve("timeout");
    }, limitS * 1000);
    child.on("exit", (code, signal) => {
      if (stalled) return; // the timer resolves
      clearTimeout(timer);
      rmSync(reports, { recursive: true, force: true });
      resolve(code ?? (signal ? `signal ${signal}` : 1));
    });
  });
}

let result = await once();
if (result === "timeout") {
  process.stderr.write("vitest-guard: running the suite once more\n");
  result = await once();
}
process.exit(typeof result === "number" ? result : 1);
