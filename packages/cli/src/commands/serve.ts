import type { GenerateRequest } from "@sr2se/core";
import { EarlyExitPolicy } from "@sr2se/hsr-ee/tensor";
import { VLM } from "@sr2se/vlm";
import type { Command } from "commander";
import { createPolicyServer } from "../serve/server.js";
import { device, integer } from "./args.js";
import { resolveGate, tauOption } from "./gate.js";

/** Whether a listening address stays on this machine. */
function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** What in a request's prompt the model cannot take (the text "<image>", a prompt past its context), if anything. */
function promptProblem(vlm: VLM, r: GenerateRequest): string | undefined {
  const ids = vlm.promptIds(r.messages, r.image !== undefined);
  const placeholders = ids.filter((id) => id === vlm.config.image_token_id).length;
  if (placeholders > (r.image !== undefined ? 1 : 0))
    return 'the prompt holds the text "<image>", which stands for the image here; remove it from the messages';
  const length = ids.length - placeholders + placeholders * vlm.imageTokens;
  const context = vlm.config.text_config.max_position_embeddings;
  if (length >= context)
    return `the prompt is ${length} tokens (the image counts ${vlm.imageTokens}), the model's context is ${context}: shorten it`;
  return undefined;
}

/** Registers `sr2se serve`. */
export function register(program: Command): void {
  program
    .command("serve")
    .description(
      "serve a checkpoint over an OpenAI-compatible API (POST /v1/chat/completions, GET /v1/models); requests that arrive together are decoded as one batch",
    )
    .requiredOption("--ckpt <dir>", "checkpoint folder (or an SFT output folder)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port (0: any free port)", integer(0), 8000)
    .option("--name <id>", "model id in /v1/models and replies (default: the checkpoint folder's name)")
    .option("--max-batch <n>", "most requests decoded together", integer(1), 32)
    .option("--batch-window <ms>", "how long a request waits for others to batch with", integer(0), 5)
    .option("--device <name>", "cpu or webgpu (default: the fastest CPU backend)", device)
    .option(
      "--api-key <key>",
      "bearer token every /v1 request must send (default: env SR2SE_API_KEY; prefer the variable: arguments show in ps)",
    )
    .option(
      "--max-concurrent <n>",
      "most requests in progress at once; more get 503 with Retry-After",
      integer(1),
      64,
    )
    .option(
      "--gate <dir>",
      "HSR-EE early exit for every request: a gate folder (from `train hsr-ee`), or probability / always-deep; choices then carry exit_level and confidence",
    )
    .option(
      "--tau <t>",
      "exit threshold in [0, 1], or auto (the gate's calibrated τ); default the gate's",
      tauOption,
    )
    .addHelpText(
      "after",
      "\nExample:\n  sr2se serve --ckpt runs/demo/sft --port 8000\n  sr2se serve --ckpt runs/demo/hsr-ee --gate runs/demo/hsr-ee/gate --tau auto\n  sr2se ipr generate --endpoint http://127.0.0.1:8000/v1 --model sft --data runs/demo/data/train.jsonl --out pairs.jsonl\n",
    )
    .action(
      async (flags: {
        ckpt: string;
        host: string;
        port: number;
        name?: string;
        maxBatch: number;
        batchWindow: number;
        device?: "cpu" | "webgpu";
        gate?: string;
        tau?: number | "auto";
        apiKey?: string;
        maxConcurrent: number;
      }) => {
        if (flags.tau !== undefined && !flags.gate) throw new Error("--tau needs --gate");
        const apiKey = flags.apiKey ?? process.env.SR2SE_API_KEY;
        if (apiKey === "") throw new Error("--api-key (or SR2SE_API_KEY) is empty");
        if (!apiKey && !isLoopback(flags.host))
          process.stderr.write(
            `serve: WARNING: listening on ${flags.host}, beyond this machine, without an API key: anyone who can reach it can use the model (set SR2SE_API_KEY or --api-key)\n`,
          );
        const vlm = await VLM.load(flags.ckpt, { device: flags.device });
        const exit = flags.gate ? await resolveGate(flags.gate, flags.tau) : null;
        if (exit)
          process.stderr.write(`serve: gate ${exit.gate.name}, τ = ${exit.tau} (${exit.tauSource})\n`);
        const policy = exit ? new EarlyExitPolicy(vlm, exit.gate, exit.tau, flags.maxBatch) : vlm;
        const model = flags.name ?? (flags.ckpt.replace(/\/+$/, "").split("/").pop() || "sr2se");
        const served = await createPolicyServer(policy, flags.host, flags.port, {
          model,
          maxBatch: flags.maxBatch,
          batchWindowMs: flags.batchWindow,
          promptTokens: (r) => vlm.promptIds(r.messages, r.image !== undefined).length,
          apiKey,
          maxConcurrent: flags.maxConcurrent,
          validate: (r) => promptProblem(vlm, r),
          onRequest: (i) =>
            process.stderr.write(
              `serve: ${i.status} in ${i.ms.toFixed(0)} ms${i.tokens !== undefined ? `, ${i.tokens} tokens` : ""}\n`,
            ),
        });
        process.stdout.write(`${JSON.stringify({ url: served.url, model })}\n`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.stderr.write("serve: shutting down\n");
            void served.close().then(resolve);
          };
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
        });
      },
    );
}
