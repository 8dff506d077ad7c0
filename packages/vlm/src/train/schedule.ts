/** Returns the learning rate at a step: linear warmup to lr, then cosine decay to minLr at totalSteps. */
export function warmupCosine(
  step: number,
  o: { lr: number; minLr: number; warmupSteps: number; totalSteps: number },
): number {
  if (step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps;
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  const progress = Math.min(1, (step - o.warmupSteps) / span);
  return o.minLr + 0.5 * (o.lr - o.minLr) * (1 + Math.cos(Math.PI * progress));
}
