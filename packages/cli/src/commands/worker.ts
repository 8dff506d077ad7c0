import { type RunningWorker, redactRedisUrl, startWorker } from "@sr2se/queue";
import type { Command } from "commander";
import { allowEndpoints } from "../queue/endpoints.js";
import { experimentSeedJob } from "../queue/experiment-job.js";
import { iprJob } from "../queue/ipr-job.js";
import { judgeJob } from "../queue/judge-job.js";
import { predictJob } from "../queue/predict-job.js";
import { integer, queueUrl } from "./args.js";

export { queueUrl };

/** The job kinds `sr2se worker` runs: sr2se's own, never a command line taken from the queue. */
export const workerJobKinds = [predictJob, judgeJob, iprJob, experimentSeedJob];

/** Registers `sr2se worker`. */
export function register(program: Command): void {
  program
    .command("worker")
    .description(
      `run sr2se jobs from a BullMQ queue on Redis (${workerJobKinds.map((k) => k.name).join(", ")})`,
    )
    .option(
      "--redis [url]",
      "the queue's redis://[:password@]host:port[/db]; without a value, SR2SE_REDIS_URL (keeps the password out of the process list)",
    )
    .option("--concurrency <n>", "jobs run at once", integer(1), 1)
    .option(
      "--lock-duration <ms>",
      "a job's lock lifetime: a dead worker's job is retried after it (a job that runs a checkpoint in this process computes on its event loop, so keep it well above a loaded machine's longest batch)",
      integer(1000),
      30_000,
    )
    .option("--stalled-interval <ms>", "how often jobs of dead workers are looked for", integer(500), 30_000)
    .option(
      "--endpoint <url...>",
      "model and judge endpoints (OpenAI-compatible base URLs) this worker's ipr and judge jobs may call with its OPENAI_API_KEY; a job naming another is refused (default: SR2SE_WORKER_ENDPOINTS, comma-separated; none)",
    )
    .addHelpText(
      "after",
      "\nExample:\n  sr2se worker --redis redis://127.0.0.1:6379 --concurrency 2\n  sr2se predict --queue redis://127.0.0.1:6379 --ckpt runs/demo/sft --data runs/demo/data/test.jsonl --out runs/demo/eval/test.pred.jsonl\n  sr2se worker --redis redis://127.0.0.1:6379 --endpoint https://api.openai.com/v1   # ipr and judge jobs: OPENAI_API_KEY from this machine\n  sr2se eval score --queue redis://127.0.0.1:6379 --bench mmvet --data mm-vet.jsonl --pred preds.jsonl --judge https://api.openai.com/v1\n",
    )
    .action(
      async (flags: {
        redis?: string | true;
        concurrency: number;
        lockDuration: number;
        stalledInterval: number;
        endpoint?: string[];
      }) => {
        const url = queueUrl(flags.redis);
        allowEndpoints(
          flags.endpoint ??
            (process.env.SR2SE_WORKER_ENDPOINTS ?? "")
              .split(",")
              .map((u) => u.trim())
              .filter(Boolean),
        );
        const log = (line: string) => process.stderr.write(`worker: ${line}\n`);
        // The signal handlers go in before anything is announced: a supervisor that stops the
        // worker as soon as it reads "ready" must find them there (it once raced the default
        // action, which kills with no cleanup).
        let signalled: string | undefined;
        let forced = false;
        let wake: () => void = () => {};
        const stop = (signal: string) => {
          if (signalled) {
            // a second signal: stop now; the running jobs are retried by another worker
            log(`${signal} again: stopping now`);
            forced = true;
          } else {
            signalled = signal;
            log(`${signal}: finishing the running jobs, then stopping (again to stop now)`);
          }
          wake();
        };
        const onInt = () => stop("SIGINT");
        const onTerm = () => stop("SIGTERM");
        process.on("SIGINT", onInt);
        process.on("SIGTERM", onTerm);
        try {
          const running: RunningWorker = await startWorker({
            url,
            kinds: workerJobKinds,
            concurrency: flags.concurrency,
            lockDuration: flags.lockDuration,
            stalledInterval: flags.stalledInterval,
            log,
          });
          if (!signalled) {
            log(`ready on ${redactRedisUrl(url)}, ${flags.concurrency} at a time (pid ${process.pid})`);
            process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
          await new Promise<void>((resolve) => {
            wake = () => void running.close(true).then(resolve);
            void running.close(forced).then(resolve);
          });
        } finally {
          process.off("SIGINT", onInt);
          process.off("SIGTERM", onTerm);
        }
        log("stopped");
      },
    );
}
