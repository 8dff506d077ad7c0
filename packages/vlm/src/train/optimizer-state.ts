// optimizer.safetensors: the optimizer's state dict in `optim.flattenState`'s layout (tensors
// `state.<index>.expAvg` / `expAvgSq`, parameter groups and step counts as metadata), one layout for
// every trainer. Checkpoints written before that layout (moments named after their parameter,
// `<name>.exp_avg`, one step count in trainer_state.json) are converted on load.
import { join } from "node:path";
import { type io, type nn, optim, type Tensor, tensor } from "@sr2se/tensor";
import type { CheckpointFiles, SafetensorsContent } from "../checkpoint/checkpoint.js";
import { configureOptimizers, type OptimizerSettings } from "../model/configure-optimizers.js";

/** Returns an optimizer's state as optimizer.safetensors holds it (host copies). */
export async function optimizerStateFiles(optimizer: optim.Optimizer): Promise<SafetensorsContent> {
  const { tensors, metadata } = optim.flattenState(optimizer.stateDict());
  const host = new Map<string, io.HostArray>();
  try {
    for (const [name, t] of Object.entries(tensors))
      host.set(name, { dtype: t.dtype, shape: t.shape.slice(), data: await t.data() });
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
  return { tensors: host, metadata };
}

/** Whether optimizer.safetensors holds moments named after parameters (the layout before `flattenState`'s). */
function isLegacyLayout(file: SafetensorsContent): boolean {
  return (
    file.metadata.paramGroups === undefined && [...file.tensors.keys()].some((k) => k.endsWith(".exp_avg"))
  );
}

/**
 * Restores an optimizer from optimizer.safetensors (either layout) and trainer_state.json; `where`
 * names the file in errors. The optimizer must have been built the way the run that saved it built
 * its own (same groups, same frozen parameters).
 */
export function loadOptimizerState(
  optimizer: optim.Optimizer,
  model: nn.Module,
  file: SafetensorsContent,
  trainerState: Record<string, unknown>,
  where: string,
): void {
  const temporaries: Tensor[] = [];
  const onDevice = (h: io.HostArray) => {
    const t = tensor(h.data, { shape: [...h.shape], dtype: h.dtype });
    temporaries.push(t);
    return t;
  };
  try {
    if (isLegacyLayout(file)) {
      const step = trainerState.optimizer_step;
      if (typeof step !== "number")
        throw new Error(
          `${where}: moments in the per-parameter layout need "optimizer_step" in trainer_state.json, which is missing; load the weights alone (VLM.load) and start a new run from them`,
        );
      const names = new Map(model.namedParameters().map(([n, p]) => [p, n]));
      const current = optimizer.stateDict();
      const state: optim.OptimizerState["state"] = {};
      let index = 0;
      for (const g of optimizer.paramGroups) {
        for (const p of g.params) {
          const name = names.get(p);
          const m = name === undefined ? undefined : file.tensors.get(`${name}.exp_avg`);
          const v = name === undefined ? undefined : file.tensors.get(`${name}.exp_avg_sq`);
          if (!m || !v)
            throw new Error(
              `${where}: tensor "${name}.${m ? "exp_avg_sq" : "exp_avg"}" is missing; load the weights alone (VLM.load) and start a new run from them`,
            );
          state[index++] = { step, expAvg: onDevice(m), expAvgSq: onDevice(v) };
        }
      }
      for (const s of Object.values(current.state))
        for (const v of Object.values(s)) if (typeof v !== "number") v.dispose();
      optimizer.loadStateDict({ state, paramGroups: current.paramGroups });
      return;
    }
    const tensors: Record<string, Tensor> = {};
    for (const [name, h] of file.tensors) tensors[name] = onDevice(h);
    let sd: optim.OptimizerState;
    try {
      sd = optim.unflattenState(tensors, file.metadata);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
    try {
      optimizer.loadStateDict(sd);
    } catch (err) {
      throw new Error(
        `${where}: ${(err as Error).message}; the optimizer state does not fit this model's parameter groups (load the weights alone with VLM.load and start a new run from them)`,
      );
    }
  } finally {
    for (const t of temporaries) t.dispose();
  }
}

/** Where a run stopped: the checkpoint read with its training state, its folder, and the step. */
export interface ResumePoint {
  checkpoint: CheckpointFiles;
  dir: string;
  step: number;
}

/**
 * Returns a trainer's AdamW (`configureOptimizers`' groups) and the LambdaLR that scales it by
 * `schedule(step)`, both restored to where `from` stopped when a run resumes.
 */
export function trainingOptimizer(
  model: nn.Module,
  settings: OptimizerSettings,
  schedule: (step: number) => number,
  from?: ResumePoint,
): { optimizer: optim.AdamW; scheduler: optim.LambdaLR } {
  const optimizer = configureOptimizers(model, settings);
  const scheduler = new optim.LambdaLR(optimizer, schedule);
  if (from) {
    const { optimizer: saved, trainerState } = from.checkpoint;
    loadOptimizerState(optimizer, model, saved!, trainerState!, join(from.dir, "optimizer.safetensors"));
    scheduler.loadStateDict({ ...scheduler.stateDict(), lastStep: from.step });
  }
  return { optimizer, scheduler };
}
