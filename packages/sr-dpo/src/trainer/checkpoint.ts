import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { exists } from "@sr2se/core";
import { io, type optim, type Tensor } from "@sr2se/tensor";

/** Splits an optimizer state into its tensors (for optimizer.safetensors) and the JSON rest. */
export function splitOptimizerState(sd: optim.OptimizerState): {
  tensors: Record<string, Tensor>;
  json: { paramGroups: Record<string, unknown>[]; state: Record<string, Record<string, number | string>> };
} {
  const tensors: Record<string, Tensor> = {};
  const state: Record<string, Record<string, number | string>> = {};
  for (const [id, s] of Object.entries(sd.state)) {
    const entry: Record<string, number | string> = {};
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === "number") entry[k] = v;
      else {
        const name = `state.${id}.${k}`;
        tensors[name] = v;
        entry[k] = `tensor:${name}`;
      }
    }
    state[id] = entry;
  }
  return { tensors, json: { paramGroups: sd.paramGroups, state } };
}

/** Rebuilds an optimizer state from the JSON rest and the tensors of optimizer.safetensors. */
export function joinOptimizerState(
  json: { paramGroups: Record<string, unknown>[]; state: Record<string, Record<string, number | string>> },
  tensors: Record<string, Tensor>,
  where: string,
): optim.OptimizerState {
  const state: optim.OptimizerState["state"] = {};
  for (const [id, entry] of Object.entries(json.state)) {
    const s: optim.ParamState = { step: Number(entry.step) };
    for (const [k, v] of Object.entries(entry)) {
      if (k === "step") continue;
      if (typeof v === "string" && v.startsWith("tensor:")) {
        const t = tensors[v.slice(7)];
        if (!t)
          throw new Error(`${where}: optimizer tensor "${v.slice(7)}" is missing from optimizer.safetensors`);
        s[k] = t;
      } else s[k] = v as number;
    }
    state[Number(id)] = s;
  }
  return { state, paramGroups: json.paramGroups };
}

/** Reads a JSON file of a checkpoint, naming the file when it is missing or malformed. */
export async function readJson<T>(file: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new Error(`${file}: missing; not an SR-DPO checkpoint folder`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Writes tensors as safetensors into a folder being built. */
export async function writeTensors(
  dir: string,
  name: string,
  tensors: Record<string, Tensor>,
): Promise<void> {
  await writeFile(path.join(dir, name), await io.saveSafetensors(tensors));
}

/** Reads the tensors of a checkpoint's safetensors file onto a backend. */
export async function readTensors(
  dir: string,
  name: string,
  device: string,
): Promise<Record<string, Tensor>> {
  const file = path.join(dir, name);
  if (!(await exists(file))) throw new Error(`${file}: missing; not an SR-DPO checkpoint folder`);
  return (await io.readSafetensors(file, { device })).tensors;
}
