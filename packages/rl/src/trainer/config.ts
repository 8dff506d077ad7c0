// The GRPO recipe: verl's knobs under verl's names where it has them (Vision-SR1's values where its
// configs set them), sized for the default model on two CPU cores.
import type { TokenKlPenalty } from "../objective/kl.js";

/** GRPO hyper-parameters (`trainer_state.json` keeps them; a resumed run uses the saved ones). */
export interface GrpoConfig {
  /** Training steps: each is one rollout batch and `mini_batches` optimizer steps. */
  steps: number;
  /** Prompts a step (verl's `rollout_batch_size`). */
  prompts_per_step: number;
  /** Responses a prompt (verl's `rollout.n`; Vision-SR1: 8). */
  n: number;
  /** Sampling temperature of the rollouts and of the self-reward pass (Vision-SR1: 1.0). */
  temperature: number;
  /** Nucleus sampling (Vision-SR1: 0.99). */
  top_p: number;
  /** Response tokens at most (verl's `max_response_length`), in both passes. */
  max_response_tokens: number;
  /**
   * Response tokens at most in the self-reward pass. Vision-SR1 uses `max_response_length` there too;
   * its verify prompt asks for a short `<think>` and a boxed word, so a shorter cap cuts only answers
   * that would not have been graded right anyway (set it to `max_response_tokens` to match exactly).
   */
  description_max_tokens: number;
  /** Requests decoded together (the wasm heap holds a whole prefill's activations: keep it moderate). */
  gen_batch_size: number;
  /** AdamW's learning rate (constant after `warmup_steps`, as verl with `lr_warmup_ratio: 0`). */
  lr: number;
  weight_decay: number;
  warmup_steps: number;
  /** Learning-rate multiplier of the vision tower (0 keeps the SFT recipe's pretrained tower frozen; Vision-SR1 trains it: 1). */
  vision_lr_scale: number;
  max_grad_norm: number;
  /** KL loss against the frozen reference (Vision-SR1: low_var_kl, 0.01); 0 drops the reference pass. */
  kl_coef: number;
  kl_penalty: TokenKlPenalty;
  clip_ratio_low: number;
  clip_ratio_high: number;
  clip_ratio_dual: number;
  /** Optimizer steps a rollout batch (verl's rollout_batch_size · n / global_batch_size); 1 is on-policy, TRL's default. */
  mini_batches: number;
  /** Sequences a forward pass (verl's `micro_batch_size_per_device_for_update`). */
  micro_batch_size: number;
  /** Weight of the format term of the reward (Vision-SR1: 0.1). */
  format_weight: number;
  /** Checkpoint every this many steps (and at the end). */
  save_every: number;
  /** Held-out reward every this many steps and before the first (0: never). */
  eval_every: number;
  /** Held-out prompts scored (greedy, one response each: Vision-SR1's `val_override_config`). */
  eval_prompts: number;
  seed: number;
}

/** The default recipe for the default model on the shapes world. */
export const DEFAULT_GRPO: GrpoConfig = {
  steps: 60,
  prompts_per_step: 16,
  n: 8,
  temperature: 1,
  top_p: 0.99,
  max_response_tokens: 128,
  description_max_tokens: 64,
  gen_batch_size: 64,
  lr: 2e-5,
  weight_decay: 0.01,
  warmup_steps: 0,
  vision_lr_scale: 0,
  max_grad_norm: 1,
  kl_coef: 0.01,
  kl_penalty: "low_var_kl",
  clip_ratio_low: 0.2,
  clip_ratio_high: 0.3,
  clip_ratio_dual: 3,
  mini_batches: 1,
  micro_batch_size: 32,
  format_weight: 0.1,
  save_every: 10,
  eval_every: 10,
  eval_prompts: 64,
  seed: 0,
};

const POSITIVE_INTEGERS = [
  "steps",
  "prompts_per_step",
  "n",
  "max_response_tokens",
  "description_max_tokens",
  "gen_batch_size",
  "mini_batches",
  "micro_batch_size",
] as const;
const NON_NEGATIVE_INTEGERS = ["warmup_steps", "save_every", "eval_every", "eval_prompts", "seed"] as const;
const NON_NEGATIVE = [
  "temperature",
  "lr",
  "weight_decay",
  "vision_lr_scale",
  "max_grad_norm",
  "kl_coef",
  "clip_ratio_low",
  "clip_ratio_high",
  "clip_ratio_dual",
] as const;

/** Returns the defaults overlaid with `overrides`; throws naming the first bad field. */
export function resolveGrpoConfig(overrides: Partial<GrpoConfig> = {}): GrpoConfig {
  const c: GrpoConfig = { ...DEFAULT_GRPO, ...overrides };
  for (const k of Object.keys(overrides)) {
    if (!(k in DEFAULT_GRPO)) throw new Error(`grpo config: unknown field "${k}"`);
  }
  for (const k of POSITIVE_INTEGERS)
    if (!Number.isInteger(c[k]) || c[k] < 1)
      throw new Error(`grpo config: ${k} is ${c[k]}; it must be an integer ≥ 1`);
  for (const k of NON_NEGATIVE_INTEGERS)
    if (!Number.isInteger(c[k]) || c[k] < 0)
      throw new Error(`grpo config: ${k} is ${c[k]}; it must be an integer ≥ 0`);
  for (const k of NON_NEGATIVE)
    if (!(Number.isFinite(c[k]) && c[k] >= 0))
      throw new Error(`grpo config: ${k} is ${c[k]}; it must be a number ≥ 0`);
  if (!(c.top_p > 0 && c.top_p <= 1))
    throw new Error(`grpo config: top_p is ${c.top_p}; it must be in (0, 1]`);
  if (!(c.format_weight >= 0 && c.format_weight <= 1))
    throw new Error(`grpo config: format_weight is ${c.format_weight}; it must be in [0, 1]`);
  if (c.n < 2)
    throw new Error(`grpo config: n is ${c.n}; GRPO needs rollout.n > 1 (a group of one has no spread)`);
  if (c.clip_ratio_dual <= 1)
    throw new Error(`grpo config: clip_ratio_dual is ${c.clip_ratio_dual}; it must be > 1`);
  const rows = c.prompts_per_step * c.n;
  if (rows % c.mini_batches !== 0)
    throw new Error(
      `grpo config: prompts_per_step · n = ${rows} responses do not split into ${c.mini_batches} equal mini-batches`,
    );
  if (!["kl", "abs", "mse", "low_var_kl"].includes(c.kl_penalty))
    throw new Error(`grpo config: kl_penalty is "${c.kl_penalty}"; it must be kl, abs, mse or low_var_kl`);
  if (c.temperature === 0)
    throw new Error("grpo config: temperature is 0; the rollouts must be sampled (> 0)");
  return c;
}
