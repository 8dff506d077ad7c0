// Moving parameters between a model and named host arrays (a state dict as safetensors stores it),
// strictly: every parameter must be present with its exact shape and a float dtype, and nothing may
// be left over.
import { type io, nn } from "@sr2se/tensor";

/** Named host arrays: what a safetensors file holds. */
export type HostTensors = Map<string, io.HostArray>;

/** Returns every parameter of a module as a named host array (float32, a copy). */
export async function stateDict(model: nn.Module): Promise<HostTensors> {
  const out: HostTensors = new Map();
  for (const [name, t] of model.namedParameters()) {
    out.set(name, { dtype: t.dtype, shape: t.shape.slice(), data: (await t.data()).slice() });
  }
  return out;
}

/**
 * Copies named host arrays into a module's parameters. Errors name `where` and the tensor: a missing
 * tensor, a wrong shape, an integer dtype; with `strict`, also an unexpected tensor.
 */
export function loadStateDict(model: nn.Module, tensors: HostTensors, where: string, strict = true): void {
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
    if (src.dtype !== "float32" && src.dtype !== "float64")
      throw new Error(
        `${where}: tensor "${name}" has dtype ${src.dtype}, the model expects a float dtype (F32, F16, BF16, F64)`,
      );
  }
  if (strict) {
    for (const name of tensors.keys())
      if (!known.has(name))
        throw new Error(`${where}: unexpected tensor "${name}" (not a parameter of this model)`);
  }
  for (const [name, t] of params) nn.init.copyFrom(t, (tensors.get(name) as io.HostArray).data);
}

/**
 * Loads a plain Llama checkpoint (Hugging Face LlamaForCausalLM names: `model.*`, `lm_head.*`) into
 * a VLM's language tower. With tied embeddings a stored `lm_head.weight` is ignored.
 */
export function loadLlamaWeights(
  languageModel: nn.Module,
  tensors: HostTensors,
  where: string,
  tied: boolean,
): void {
  const picked: HostTensors = new Map();
  for (const [name, t] of tensors) {
    if (name.startsWith("model.") || (!tied && name.startsWith("lm_head."))) picked.set(name, t);
  }
  loadStateDict(languageModel, picked, where);
}
