// Learning-rate schedules as multipliers of each group's base lr, applied by LambdaLR.
import type { Optimizer } from "./optimizer.js";

/** A schedule: the lr multiplier at a 0-based step. */
export type Schedule = (step: number) => number;

/** Returns linear warmup from 0 to 1 over warmupSteps, then cosine decay to minRatio at totalSteps. */
export function warmupCosine(warmupSteps: number, totalSteps: number, minRatio = 0): Schedule {
  return (step) => {
    if (step < warmupSteps) return (step + 1) / warmupSteps;
    const t = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    return minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * t));
  };
}

/** Returns linear warmup over warmupSteps, then linear decay to 0 at totalSteps. */
export function warmupLinear(warmupSteps: number, totalSteps: number): Schedule {
  return (step) => {
    if (step < warmupSteps) return (step + 1) / warmupSteps;
    return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
  };
}

/** Returns the constant schedule (optionally after linear warmup). */
export function constant(warmupSteps = 0): Schedule {
  return (step) => (step < warmupSteps ? (step + 1) / warmupSteps : 1);
}

/** Sets each group's lr to baseLr · schedule(step) (torch.optim.lr_scheduler.LambdaLR). */
export class LambdaLR {
  private readonly baseLrs: number[];
  /** Steps taken so far. */
  lastStep = 0;
  constructor(
    readonly optimizer: Optimizer,
    readonly schedule: Schedule,
  ) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.apply();
  }
  private apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.baseLrs[i] * this.schedule(this.lastStep);
    });
  }
  /** Advances one step and updates the learning rates. */
  step(): void {
    this.lastStep++;
    this.apply();
  }
  /** Returns the current learning rate of each group. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
  /** Returns { lastStep, baseLrs } for checkpoints. */
  stateDict(): { lastStep: number; baseLrs: number[] } {
    return { lastStep: this.lastStep, baseLrs: [...this.baseLrs] };
  }
  /** Restores a stateDict. */
  loadStateDict(s: { lastStep: number; baseLrs: number[] }): void {
    this.lastStep = s.lastStep;
    s.baseLrs.forEach((v, i) => {
      this.baseLrs[i] = v;
    });
    this.apply();
  }
}
