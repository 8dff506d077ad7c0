import { join } from "node:path";
import { OpenAIChatClient, type OpenAIChatClientOptions } from "@sr2se/core";
import { CachedJudge, JudgmentCache } from "./cache.js";
import type { JudgeReply, JudgeRequest, MmVetJudge } from "./judge.js";

/** The official grader model of mm-vet_evaluator.py (its --gpt_model default). */
export const MMVET_DEFAULT_JUDGE_MODEL = "gpt-4-0613";

/** MM-Vet's grader behind any OpenAI-compatible chat completions endpoint (the official setup with GPT-4). */
export class OpenAIMmVetJudge implements MmVetJudge {
  readonly model: string;
  readonly official = true;
  readonly client: OpenAIChatClient;

  constructor(options: OpenAIChatClientOptions = {}) {
    const model = options.model ?? process.env.OPENAI_MODEL ?? MMVET_DEFAULT_JUDGE_MODEL;
    this.client = new OpenAIChatClient({ ...options, model });
    this.model = model;
  }

  async judge(request: JudgeRequest): Promise<JudgeReply> {
    const result = await this.client.chat([{ role: "user", content: request.prompt }], {
      temperature: request.temperature,
      maxTokens: request.maxTokens,
      signal: request.signal,
    });
    const replyModel = (result.raw as { model?: unknown } | null)?.model;
    return { content: result.text, model: typeof replyModel === "string" ? replyModel : this.model };
  }
}

export interface CreateMmVetJudgeOptions extends OpenAIChatClientOptions {
  /** Folder of the judgment cache (file `mmvet-judgments.jsonl`); no cache when neither this nor cacheFile is set. */
  cacheDir?: string;
  cacheFile?: string;
}

/** The OpenAI-compatible MM-Vet judge (base URL, model and key from options or OPENAI_* env), cached on disk when asked. */
export async function createMmVetJudge(options: CreateMmVetJudgeOptions = {}): Promise<MmVetJudge> {
  const { cacheDir, cacheFile, ...client } = options;
  const judge = new OpenAIMmVetJudge(client);
  const file = cacheFile ?? (cacheDir ? join(cacheDir, "mmvet-judgments.jsonl") : undefined);
  if (!file) return judge;
  return new CachedJudge(judge, await JudgmentCache.open(file));
}
