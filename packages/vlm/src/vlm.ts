// The VLM as other packages use it: the network (an nn.Module with Hugging Face parameter names) and
// its tokenizer, with the training loss, sequence log-probs (for SR-DPO), batched generation (the
// VisionLanguagePolicy of @sr2se/core) and checkpoints (`VLM.load(dir)`, `vlm.save(dir)`).
import type {
  GenerateOptions,
  GenerateRequest,
  Generation,
  Message,
  VisionLanguagePolicy,
} from "@sr2se/core";
import { cat, crossEntropy, type Tensor, tensor, tidy, zeros } from "@sr2se/tensor";
import {
  type CheckpointFiles,
  checkpointDirOf,
  readCheckpoint,
  type SafetensorsContent,
  writeCheckpoint,
} from "./checkpoint/checkpoint.js";
import { type HostTensors, loadStateDict, stateDict } from "./checkpoint/weights.js";
import { type VlmConfig, validateConfig } from "./config.js";
import { type CollatedBatch, collate, type SequenceInput } from "./data/batch.js";
import { IGNORE_INDEX } from "./data/encode.js";
import { preprocessImage } from "./data/images.js";
import { useFastestBackend } from "./device.js";
import { decode } from "./generation/generate.js";
import { streamTokens, tokenLogprobsOf } from "./generation/token-stream.js";
import { VlmForConditionalGeneration } from "./model/vlm-model.js";
import { SPECIAL_TOKENS } from "./tokenizer/bpe-trainer.js";
import { VlmTokenizer } from "./tokenizer/tokenizer.js";

const QWEN_IMAGE_MARKER = "<|vision_start|><|image_pad|><|vision_end|>";

/** One completion to score: an optional image, the prompt (chat messages or a rendered chat string), the completion text. */
export interface LogProbRequest {
  image?: string | Uint8Array;
  /** Pre-decoded pixels (normalized CHW), instead of `image`. */
  pixels?: Float32Array;
  prompt: string | Message[];
  completion: string;
}

/** Summed and mean log-probs of each completion (differentiable tensors [B]) and its token count. */
export interface SequenceLogProbs {
  sum: Tensor;
  mean: Tensor;
  tokens: number[];
}

/** Per-token log-probs of sequences: [B, T] (zeros past each sequence's end) and each sequence's token count. */
export interface TokenLogProbs {
  logProbs: Tensor;
  tokens: number[];
}

/** Generation options: core's, plus top-k, batch size and hidden states for the HSR-EE gate. */
export interface VlmGenerateOptions extends GenerateOptions {
  topK?: number;
  /** Requests decoded together (default 32); requests are grouped by prompt length. */
  batchSize?: number;
  /** Return the final hidden state that produced these generated tokens ("last", or indices; negative from the end). */
  hiddenStates?: "last" | number[];
  /** Use the KV cache (default true). */
  useCache?: boolean;
}

/** One generation: text, generated token count, summed log-prob, why it ended, and hidden states on request. */
export interface VlmGeneration extends Generation {
  tokens: number;
  logprob: number;
  finishReason: "stop" | "length";
  hidden?: Float32Array[];
}

/** Training state stored next to the weights. */
export interface TrainingState {
  trainerState: Record<string, unknown>;
  /** optimizer.safetensors: `optim.flattenState` of the optimizer's state dict, on the host. */
  optimizer: SafetensorsContent;
  /**
   * The weights model.safetensors gets when they are not the parameters (an average of them, SFT's
   * `ema_decay`); the parameters then go to training_weights.safetensors, which resuming reads.
   */
  weights?: HostTensors;
}

/** A compact LLaVA-style vision-language model: the network, its tokenizer, and the policy methods. */
export class VLM extends VlmForConditionalGeneration implements VisionLanguagePolicy {
  readonly tokenizer: VlmTokenizer;

  /** Builds a model with weights initialised from `seed` (GPT-2's scheme, drawn on the host). */
  constructor(config: VlmConfig, tokenizer: VlmTokenizer, seed = 0) {
    validateConfig(config);
    if (tokenizer.vocabSize > config.text_config.vocab_size) {
      throw new Error(
        `VLM: the tokenizer has ${tokenizer.vocabSize} tokens, above text_config.vocab_size ${config.text_config.vocab_size}`,
      );
    }
    if (tokenizer.imageId !== config.image_token_id) {
      throw new Error(
        `VLM: config image_token_id ${config.image_token_id} is not the tokenizer's <image> id ${tokenizer.imageId}`,
      );
    }
    super(config, seed);
    this.tokenizer = tokenizer;
  }

  /**
   * Returns the VLM stored in a checkpoint folder (or in the `checkpoint/` folder of an SFT output
   * folder), on the fastest backend of `device`; errors name the file and the tensor.
   */
  static async load(dir: string, opts: { device?: "cpu" | "webgpu" } = {}): Promise<VLM> {
    const ckpt = await checkpointDirOf(dir);
    await useFastestBackend(opts.device);
    return VLM.fromFiles(await readCheckpoint(ckpt), ckpt);
  }

  /** Returns a VLM built from checkpoint files read into memory. */
  static fromFiles(files: CheckpointFiles, dir = "checkpoint"): VLM {
    const tok = VlmTokenizer.fromJSON(files.tokenizer);
    const vlm = new VLM(files.config, tok);
    loadStateDict(vlm, files.weights, `${dir}/model.safetensors`);
    return vlm;
  }

  /** Writes a checkpoint folder atomically (with training state when given). */
  async save(dir: string, training?: TrainingState): Promise<void> {
    const own = await stateDict(this);
    await writeCheckpoint(dir, {
      config: this.config,
      weights: training?.weights ?? own,
      tokenizer: this.tokenizer.json,
      trainerState: training?.trainerState,
      optimizer: training?.optimizer,
      trainingWeights: training?.weights ? own : undefined,
    });
  }

  /** Returns the token ids of a prompt with the assistant turn opened; `image` places the `<image>` placeholder. */
  promptIds(prompt: string | Message[], image: boolean): number[] {
    if (typeof prompt !== "string")
      return this.tokenizer.encode(this.tokenizer.renderChat(prompt, { image, addGenerationPrompt: true }));
    if (!prompt.includes(SPECIAL_TOKENS.imStart))
      return this.promptIds([{ role: "user", content: prompt }], image);
    // Qwen-VL's image marker (what @sr2se/ipr writes into a pair's prompt) stands for our placeholder
    const rendered = prompt.replace(QWEN_IMAGE_MARKER, image ? `${SPECIAL_TOKENS.image}\n` : "");
    if (image && !rendered.includes(SPECIAL_TOKENS.image))
      throw new Error("VLM: a rendered prompt with an image must contain the <image> placeholder");
    return this.tokenizer.encode(rendered);
  }

  /** Returns an image as the model's normalized CHW pixels. */
  pixelsOf(image: string | Uint8Array): Promise<Float32Array> {
    return preprocessImage(image, this.config);
  }

  /** Returns sequences collated for the model (right padding unless `padLeft`). */
  collate(seqs: SequenceInput[], padLeft = false, padMultiple = 1): CollatedBatch {
    const S = this.config.vision_config.image_size;
    const c = this.config;
    return collate(seqs, {
      imageId: c.image_token_id,
      imageTokens: this.imageTokens,
      padId: c.pad_token_id,
      imageShape: [3, S, S],
      padLeft,
      padMultiple,
    });
  }

  /** Returns the logits [P, vocab] at the P labelled positions of a batch, and those labels (int32 [P]). */
  private labelledLogits(seqs: SequenceInput[]): { logits: Tensor; target: Tensor; rowOf: Int32Array } {
    const col = this.collate(seqs, false, 32);
    const E = this.config.text_config.hidden_size;
    const { batch: B, length: T } = col.inputs;
    const positions: number[] = [];
    for (let i = 0; i < B * T; i++) if (col.labels[i] !== IGNORE_INDEX) positions.push(i);
    if (positions.length === 0) throw new Error("VLM: the batch has no target tokens");
    // padded to a multiple of 64 positions (label IGNORE_INDEX, no loss) so few distinct shapes occur
    const labelled = positions.length;
    while (positions.length % 64 !== 0) positions.push(0);
    const hidden = this.forward(col.inputs).reshape([B * T, E]);
    const picked = hidden.indexSelect(0, tensor(Int32Array.from(positions), { dtype: "int32" }));
    return {
      logits: this.logits(picked),
      target: tensor(
        Int32Array.from(positions, (p, k) => (k < labelled ? col.labels[p] : IGNORE_INDEX)),
        { dtype: "int32" },
      ),
      rowOf: Int32Array.from(positions, (p, k) => (k < labelled ? Math.floor(p / T) : -1)),
    };
  }

  /**
   * Returns the mean next-token cross entropy over the target tokens of a batch (weighted by the
   * sequences' `weights` where any has them), and their count.
   */
  loss(seqs: SequenceInput[]): { loss: Tensor; tokens: number } {
    // tidy: the intermediates go now (backward keeps what it needs), only the loss is the caller's
    return tidy(() => {
      const { logits, target, rowOf } = this.labelledLogits(seqs);
      const tokens = rowOf.filter((r) => r >= 0).length;
      if (!seqs.some((s) => s.weights)) return { loss: crossEntropy(logits, target), tokens };
      // the labelled positions come row by row, each row's in order: the k-th of row b takes weights[k]
      const w = new Float32Array(rowOf.length);
      const seen = new Array<number>(seqs.length).fill(0);
      let total = 0;
      rowOf.forEach((b, p) => {
        if (b < 0) return;
        const k = seen[b]++;
        const given = seqs[b].weights;
        const v = given ? given[k] : 1;
        if (v === undefined || !(v >= 0))
          throw new Error(
            `VLM.loss: sequence ${b} has no valid weight for its target token ${k} (${given?.length} weights)`,
          );
        w[p] = v;
        total += v;
      });
      seqs.forEach((s, b) => {
        if (s.weights && s.weights.length !== seen[b])
          throw new Error(
            `VLM.loss: sequence ${b} has ${s.weights.length} weights for ${seen[b]} target tokens`,
          );
      });
      if (!(total > 0)) throw new Error("VLM.loss: the target tokens' weights sum to 0");
      const perToken = crossEntropy(logits, target, { reduction: "none" });
      return { loss: perToken.mul(tensor(w)).sum().div(total), tokens };
    });
  }

  /** Returns summed and mean log-probs of the labelled tokens of each sequence (differentiable). */
  sequenceLogProbsOf(seqs: SequenceInput[]): SequenceLogProbs {
    // tidy: the intermediates go now (backward keeps what it needs), only sum and mean are the caller's
    return tidy(() => this.sequenceLogProbsIn(seqs));
  }

  private sequenceLogProbsIn(seqs: SequenceInput[]): SequenceLogProbs {
    const { logits, target, rowOf } = this.labelledLogits(seqs);
    const B = seqs.length;
    const P = target.size;
    const tokenLogp = crossEntropy(logits, target, { reduction: "none" }).neg();
    const seg = new Float32Array(B * P);
    const counts = new Float32Array(B);
    rowOf.forEach((b, p) => {
      if (b < 0) return;
      seg[b * P + p] = 1;
      counts[b]++;
    });
    const sum = tensor(seg, { shape: [B, P] })
      .matmul(tokenLogp.reshape([P, 1]))
      .reshape([B]);
    return { sum, mean: sum.div(tensor(counts.map((n) => Math.max(n, 1)))), tokens: Array.from(counts) };
  }

  /**
   * Returns the log-prob of each labelled token (differentiable, [B, T] with T the most labelled
   * tokens of a sequence; row b holds sequence b's labelled tokens in order, then zeros) and each
   * sequence's token count. `temperature` divides the logits first, as verl's actor does.
   */
  tokenLogProbsOf(seqs: SequenceInput[], opts: { temperature?: number } = {}): TokenLogProbs {
    // tidy: the intermediates go now (backward keeps what it needs), only logProbs is the caller's
    return tidy(() => {
      const { logits, target, rowOf } = this.labelledLogits(seqs);
      const t = opts.temperature ?? 1;
      const scaled = t === 1 ? logits : logits.div(t);
      const P = target.size;
      // one extra slot holding 0 fills the columns past a sequence's last token
      const tokenLogp = cat([crossEntropy(scaled, target, { reduction: "none" }).neg(), zeros([1])], 0);
      const tokens = seqs.map(() => 0);
      const columns: number[][] = seqs.map(() => []);
      rowOf.forEach((b, p) => {
        if (b < 0) return;
        columns[b].push(p);
        tokens[b]++;
      });
      const T = Math.max(1, ...tokens);
      const index = new Int32Array(seqs.length * T).fill(P);
      columns.forEach((ps, b) => {
        index.set(ps, b * T);
      });
      const logProbs = tokenLogp.indexSelect(0, tensor(index, { dtype: "int32" })).reshape([seqs.length, T]);
      return { logProbs, tokens };
    });
  }

  /** Returns the token ids and labels of a prompt + completion (the loss on the completion and its closing `<|im_end|>`). */
  encodeCompletion(prompt: string | Message[], completion: string, image: boolean): SequenceInput {
    const p = this.promptIds(prompt, image);
    const target = [...this.tokenizer.encode(completion), this.tokenizer.imEndId];
    const ids = [...p, ...target];
    const labels = new Array<number>(ids.length).fill(IGNORE_INDEX);
    for (let i = p.length - 1; i < ids.length - 1; i++) labels[i] = ids[i + 1];
    return { ids, labels };
  }

  /**
   * Returns summed and mean log-probs of completions given image and prompt (for SR-DPO), as
   * differentiable tensors [B]. Images are decoded first, so this is async; the tensors are the caller's to dispose.
   */
  async sequenceLogProbs(batch: LogProbRequest[]): Promise<SequenceLogProbs> {
    const seqs = await Promise.all(
      batch.map(async (r) => {
        const pixels = r.pixels ?? (r.image !== undefined ? await this.pixelsOf(r.image) : undefined);
        return { ...this.encodeCompletion(r.prompt, r.completion, pixels !== undefined), pixels };
      }),
    );
    return this.sequenceLogProbsOf(seqs);
  }

  /** Generates a response to each request (batched, KV cache); greedy unless a temperature is given. */
  async generate(requests: GenerateRequest[], options: VlmGenerateOptions = {}): Promise<VlmGeneration[]> {
    const items = await Promise.all(
      requests.map(async (r) => ({
        messages: r.messages,
        pixels: r.image !== undefined ? await this.pixelsOf(r.image) : undefined,
        seed: r.seed,
        onToken: r.onToken,
      })),
    );
    return this.generateFromPixels(items, options);
  }

  /** Generates like `generate`, for requests whose images are already normalized CHW pixels. */
  async generateFromPixels(
    requests: {
      messages: Message[];
      pixels?: Float32Array;
      seed?: number;
      onToken?: GenerateRequest["onToken"];
    }[],
    options: VlmGenerateOptions = {},
  ): Promise<VlmGeneration[]> {
    const maxTokens = options.maxTokens ?? 256;
    const batchSize = Math.max(1, options.batchSize ?? 32);
    const prompts: SequenceInput[] = requests.map((r) => ({
      ids: this.promptIds(r.messages, r.pixels !== undefined),
      pixels: r.pixels,
    }));
    const order = prompts.map((_, i) => i).sort((a, b) => prompts[a].ids.length - prompts[b].ids.length);
    const requestSeeds = requests.some((r) => r.seed !== undefined) ? requests.map((r) => r.seed) : undefined;
    const onToken = requests.some((r) => r.onToken)
      ? streamTokens(
          this.tokenizer,
          requests.map((r) => r.onToken),
        )
      : undefined;
    const topK = options.logprobs || options.topLogprobs ? options.topLogprobs : undefined;
    const out = new Array<VlmGeneration>(requests.length);
    for (let s = 0; s < order.length; s += batchSize) {
      const chunk = order.slice(s, s + batchSize);
      const decoded = await decode(
        this,
        this.tokenizer,
        chunk.map((i) => prompts[i]),
        {
          maxTokens,
          seed: options.seed ?? 0,
          requestSeeds,
          stop: options.stop ?? [],
          temperature: options.temperature,
          topK: options.topK,
          topP: options.topP,
          hiddenStates: options.hiddenStates,
          useCache: options.useCache,
          ...(topK ? { topLogprobs: topK } : {}),
          ...(onToken ? { onToken } : {}),
        },
        chunk,
      );
      decoded.forEach((d, j) => {
        out[chunk[j]] = {
          text: d.text,
          tokens: d.ids.length,
          logprob: d.logprobs.reduce((a, b) => a + b, 0),
          finishReason: d.finishReason,
          ...(d.hidden ? { hidden: d.hidden } : {}),
          ...(options.logprobs ? { tokenLogprobs: tokenLogprobsOf(this.tokenizer, d) } : {}),
        };
      });
    }
    return out;
  }
}
