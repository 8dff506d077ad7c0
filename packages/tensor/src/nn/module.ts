// Module: PyTorch's nn.Module. Parameters and submodules are found by walking the module's own
// properties (tensors that require grad, modules, arrays of modules), so names match PyTorch's
// ("layers.0.attn.qProj.weight") without a registration call.

import { noGrad } from "../autograd.js";
import type { Backend } from "../backend/backend.js";
import { bufferOf } from "../ops/core.js";
import { fmtShape, Tensor } from "../tensor.js";

const PARAMETERS = new WeakSet<Tensor>();

/**
 * Marks a tensor as a module parameter (torch.nn.Parameter): a module lists it among its parameters
 * and state dict even while it is frozen (`requiresGrad` false). Returns the tensor.
 */
export function asParameter(t: Tensor): Tensor {
  PARAMETERS.add(t);
  t.requiresGrad = true;
  return t;
}

/** Returns whether a tensor was made a parameter by `asParameter` (or `nn.parameter`). */
export function isParameter(t: Tensor): boolean {
  return PARAMETERS.has(t);
}

/** The base class of every layer and model. */
export abstract class Module {
  /** Whether the module is in training mode (dropout active). */
  training = true;

  /** Runs the module. */
  abstract forward(...args: unknown[]): unknown;

  /** Returns [name, submodule] for direct children, in property order. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Module) out.push([k, v]);
      else if (Array.isArray(v)) {
        v.forEach((m, i) => {
          if (m instanceof Module) out.push([`${k}.${i}`, m]);
        });
      }
    }
    return out;
  }

  /** Returns [dotted name, parameter] for every parameter of this module and its descendants. */
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Tensor && (v.requiresGrad || PARAMETERS.has(v))) out.push([prefix + k, v]);
    }
    for (const [k, m] of this.namedChildren()) out.push(...m.namedParameters(`${prefix}${k}.`));
    return out;
  }

  /** Returns every parameter (each once). */
  parameters(): Tensor[] {
    return [...new Set(this.namedParameters().map(([, p]) => p))];
  }

  /** Returns [dotted name, module] for this module (name "") and every descendant, depth first. */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k));
    return out;
  }

  /** Sets whether every parameter here and below records gradients (torch's requires_grad_); returns this. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) {
      if (!requiresGrad) {
        p.grad?.dispose();
        p.grad = null;
      }
      p.requiresGrad = requiresGrad;
    }
    return this;
  }

  /** Sets training mode here and below; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const [, m] of this.namedChildren()) m.train(mode);
    return this;
  }

  /** Sets evaluation mode; returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Returns the parameters by dotted name (the live tensors, not copies). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.namedParameters());
  }

  /**
   * Copies tensors into the parameters of the same names. With strict (default), missing or
   * unexpected names are an error; a shape or dtype mismatch is always an error. Returns the names
   * that were missing and unexpected.
   */
  loadStateDict(state: Record<string, Tensor>, strict = true): { missing: string[]; unexpected: string[] } {
    const own = new Map(this.namedParameters());
    const missing = [...own.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !own.has(k));
    if (strict && (missing.length || unexpected.length)) {
      throw new Error(
        `loadStateDict: ${missing.length ? `missing ${missing.join(", ")}` : ""}${missing.length && unexpected.length ? "; " : ""}${unexpected.length ? `unexpected ${unexpected.join(", ")}` : ""}`,
      );
    }
    for (const [name, p] of own) {
      const src = state[name];
      if (!src) continue;
      if (src.shape.length !== p.shape.length || src.shape.some((d, i) => d !== p.shape[i])) {
        throw new Error(
          `loadStateDict: ${name} has shape ${fmtShape(src.shape)} but the parameter is ${fmtShape(p.shape)}`,
        );
      }
      if (src.backend !== p.backend)
        throw new Error(
          `loadStateDict: ${name} is on ${src.backend.name}, the parameter on ${p.backend.name}`,
        );
      noGrad(() =>
        p.backend.copy(src._view("loadStateDict"), {
          buffer: bufferOf(p),
          shape: p.shape,
          strides: p.strides,
          offset: p.offset,
        }),
      );
    }
    return { missing, unexpected };
  }

  /** Moves every parameter to another device or backend (in place: fields are replaced); resolves to this. */
  async toDevice(device: string | Backend): Promise<this> {
    const self = this as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Tensor && (v.requiresGrad || PARAMETERS.has(v))) {
        const moved = await v.toDevice(device);
        PARAMETERS.add(moved);
        moved.requiresGrad = v.requiresGrad;
        v.dispose();
        self[k] = moved;
      }
    }
    for (const [, m] of this.namedChildren()) await m.toDevice(device);
    return this;
  }

  /** Disposes every parameter (and its gradient). */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}
