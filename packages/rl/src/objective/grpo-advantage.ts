import { type Dtype, rounding, sumOf } from "./dtype.js";
import { roundMatrix } from "./masked-mean.js";
import { checkMask, checkMatrix, checkOption, type Matrix } from "./validate.js";

export interface GrpoAdvantageOptions {
  /** Added to the group's standard deviation (verl's default 1e-6). */
  eps?: number;
  /** float32 (verl's training dtype, the default) or float64. */
  dtype?: Dtype;
}

/**
 * Returns GRPO's outcome advantages (verl `compute_grpo_outcome_advantage`): a row's score is the sum
 * of its token rewards, normalized within its group as (score − mean) / (unbiased std + eps), then
 * broadcast over the row's response mask. verl returns this array as both advantages and returns.
 */
export function grpoOutcomeAdvantage(
  tokenLevelRewards: Matrix,
  responseMask: Matrix,
  index: ArrayLike<string>,
  options: GrpoAdvantageOptions = {},
): number[][] {
  const fn = "grpoOutcomeAdvantage";
  const round = rounding(fn, options.dtype);
  const eps = options.eps ?? 1e-6;
  checkOption(fn, "eps", eps, 0);
  const cols = checkMatrix(fn, "tokenLevelRewards", tokenLevelRewards);
  const rows = tokenLevelRewards.length;
  checkMask(fn, "responseMask", responseMask, rows, cols, "tokenLevelRewards");
  if (index === null || typeof index !== "object" || typeof index.length !== "number") {
    throw new TypeError(`${fn}: index must be an array of group ids (strings), one a row`);
  }
  if (index.length !== rows)
    throw new RangeError(`${fn}: index has ${index.length} ids but tokenLevelRewards has ${rows} rows`);

  // The score sums every position, masked or not: verl's token_level_rewards holds the reward at the
  // last response token and zeros elsewhere, so it never needed the mask.
  const scores = new Array<number>(rows);
  const rewards = roundMatrix(tokenLevelRewards, round);
  for (let i = 0; i < rows; i++) scores[i] = sumOf(rewards[i], round);

  const groups = new Map<string, number[]>();
  for (let i = 0; i < rows; i++) {
    const id = index[i];
    if (typeof id !== "string")
      throw new TypeError(`${fn}: index[${i}] is ${String(id)}, not a string group id`);
    const members = groups.get(id);
    if (members) members.push(i);
    else groups.set(id, [i]);
  }

  const normalized = new Array<number>(rows);
  for (const [id, members] of groups) {
    // verl asserts here ("GRPO needs rollout.n > 1."); the unbiased std of one score would be NaN.
    if (members.length < 2) {
      throw new RangeError(
        `${fn}: group ${JSON.stringify(id)} has 1 response (row ${members[0]}); GRPO normalizes within a group and needs at least 2 (rollout.n > 1)`,
      );
    }
    const groupScores = members.map((i) => scores[i]);
    const mean = round(sumOf(groupScores, round) / groupScores.length);
    const denominator = round(unbiasedStd(groupScores, mean, round) + round(eps));
    for (const i of members) normalized[i] = round(round(scores[i] - mean) / denominator);
  }

  const advantages = new Array<number[]>(rows);
  for (let i = 0; i < rows; i++) {
    const mask = responseMask[i];
    const row = new Array<number>(cols);
    // score·mask, so a non-finite score leaves NaN under the mask's zeros too, as in torch.
    for (let j = 0; j < cols; j++) row[j] = normalized[i] * mask[j];
    advantages[i] = row;
  }
  return advantages;
}

/**
 * Returns `torch.std(x)` of a 1-D tensor on the CPU: the mean in the tensor's dtype, then the squared
 * deviations summed in float64 (torch's `std_var_all_cpu`), the square root rounded to the dtype.
 */
function unbiasedStd(values: number[], mean: number, round: (x: number) => number): number {
  let s = 0;
  for (const v of values) s += (v - mean) * (v - mean);
  return round(Math.sqrt(s / (values.length - 1)));
}
