// \`sr2se worker\` processes for the queue tests: started on a queue with short lock and stall times
// (a killed worker's job is retried within seconds), with what each has said on stderr.
import { type ChildProcess, spawn } from "node:child_process";
import { bin } from "./cli.js";

/** A running `sr2se worker`, with what it has said on stderr so far. */
export interface WorkerProcess {
  child: ChildProcess;
  log: { stderr: string };
  exited: Promise<number | null>;
}

/** Starts `sr2se worker` on the test queue with short lock and stall times; resolves once it is ready. */
export async function startWorker(url: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [
    bin,
    "worker",
    "--redis",
    url,
    "--lock-duration",
    "2000",
    "--stalled-interval",
    "1000",
  ]);
  const log = { stderr: "" };
  child.stderr?.on("data", (d) => (log.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d) => String(d).includes('"ready":true') && resolve());
    void exited.then((code) =>
      reject(new Error(`worker exited (${code}) before it was ready:\n${log.stderr}`)),
    );
  });
  return { child, log, exited };
}

/** Resolves once `log` holds a line matching `re`, with the match. */
export async function waitFor(log: { stderr: string }, re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
  const until = Date.now() + ms;
  for (;;) {
    const m = log.stderr.match(re);
    if (m) return m;
    if (Date.now() > until) throw new Error(`no line matching ${re} within ${ms} ms:\n${log.stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
