/**
 * The running mean of the batch reward means that TRL's `bco_pair` subtracts (its `RunningMoments`
 * mean): update with the batch's mean β·log-ratio first, then pass `mean` as `bcoDelta`.
 */
export class RunningMean {
  mean = 0;
  count = 0;

  /** Folds one batch mean in and returns the new running mean. */
  update(batchMean: number): number {
    if (!Number.isFinite(batchMean))
      throw new RangeError(`RunningMean.update: batch mean is ${batchMean}, not finite`);
    this.count += 1;
    this.mean += (batchMean - this.mean) / this.count;
    return this.mean;
  }

  /** Returns the state to store in a checkpoint. */
  state(): { mean: number; count: number } {
    return { mean: this.mean, count: this.count };
  }

  /** Restores a state returned by `state()`. */
  load(state: { mean: number; count: number }): void {
    this.mean = state.mean;
    this.count = state.count;
  }
}
