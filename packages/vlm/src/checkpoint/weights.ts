// Moving parameters between a model and named host tensors (a state dict), strictly: every
// parameter must be present with its exact shape and a float dtype, and nothing may be left over.
import type { Module } from "../model/module.js";
import { copyInto } from "../model/module.js";
import type { HostTensor } from "./safetensors.js";

/** Returns every parameter of a module as a named float32 host tensor. */
export async function stateDict(model: Module): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of model.namedParameters()) {
    out.set(name, { dtype: "F32", shape: t.shape.slice(), data: Float32Array.from(await t.data()) });
  }
  return out;
}

/**
 * Copies named host tensors into a module's parameters. Errors name `where` and the tensor: a
 * missing tensor, a wrong shape, an integer dtype; with `strict`, also an unexpected tensor.
 */
export function loadStateDict(
  model: Module,
  tensors: Map<string, HostTensor>,
  where: string,
  strict = true,
): void {
  const params = model.namedParameters();
  const known = new Set(params.map(([n]) => n));
  for (const [name, t] of params) {
    const src = tensors.get(name);
    if (!src) throw new Error(`${where}: tensor "${name}" is missing`);
    if (src.shape.length !== t.shape.length || src.shape.some((d, i) => d !== t.shape[i])) {
      throw new Error(
        `${where}: tensor "${name}" has shape [${src.shape.join(", ")}], the model expects [${t.shape.join(", ")}]`,
      );
    }
    if (src.dtype !== "F32")
      throw new Error(
        `${where}: tensor "${name}" has dtype ${src.dtype}, the model expects a float dtype (F32, F16, BF16, F64)`,
      );
  }
  if (strict) {
    for (const name of tensors.keys())
      if (!known.has(name))
        throw new Error(`${where}: unexpected tensor "${name}" (not a parameter of this model)`);
  }
  for (const [name, t] of params) copyInto(t, (tensors.get(name) as HostTensor).data as Float32Array);
}

/**
 * Loads a plain Llama checkpoint (Hugging Face LlamaForCausalLM names: `model.*`, `lm_head.*`) into
 * a VLM's language tower. With tied embeddings a stored `lm_head.weight` is ignored.
 */
export function loadLlamaWeights(
  languageModel: Module,
  tensors: Map<string, HostTensor>,
  where: string,
  tied: boolean,
): void {
  const picked = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    if (name.startsWith("model.") || (!tied && name.startsWith("lm_head."))) picked.set(name, t);
  }
  loadStateDict(languageModel, picked, where);
}
