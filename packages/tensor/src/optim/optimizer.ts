// The optimizer base: parameter groups with their own hyper-parameters, per-parameter state, and
// state dicts in PyTorch's layout ({ state: {index: {...}}, paramGroups: [{..., params: [indices]}] }).
import { noGrad } from "../autograd.js";
import { keep, tidy } from "../memory.js";
import { bufferOf } from "../ops/core.js";
import { fmtShape, type Tensor } from "../tensor.js";

/** A group of parameters sharing hyper-parameters. */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  [hyper: string]: unknown;
}

/** Per-parameter optimizer state: a step count and named tensors. */
export interface ParamState {
  step: number;
  [name: string]: Tensor | number;
}

/** What `stateDict` returns and `loadStateDict` takes. */
export interface OptimizerState {
  state: Record<number, ParamState>;
  paramGroups: Record<string, unknown>[];
}

/** Parameters as a list or as groups with their own options. */
export type ParamsArg = Tensor[] | ({ params: Tensor[] } & Record<string, unknown>)[];

/** The base class of SGD and AdamW. */
export abstract class Optimizer {
  readonly paramGroups: ParamGroup[];
  readonly state = new Map<Tensor, ParamState>();

  constructor(params: ParamsArg, defaults: Record<string, unknown> & { lr: number }) {
    const groups =
      params.length > 0 && !("params" in params[0])
        ? [{ params: params as Tensor[] }]
        : (params as { params: Tensor[] }[]);
    this.paramGroups = groups.map((g) => ({ ...defaults, ...g, params: [...g.params] }) as ParamGroup);
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (!p.requiresGrad)
          throw new Error(`${this.constructor.name}: parameter ${fmtShape(p.shape)} does not require grad`);
      }
    }
  }

  /** Applies one update to every parameter with a gradient. */
  abstract step(): void;

  /** Drops every parameter's gradient (PyTorch's set_to_none). */
  zeroGrad(): void {
    for (const g of this.paramGroups)
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
  }

  /** Returns a snapshot of the state (tensors are copies the caller owns) and the groups' hyper-parameters. */
  stateDict(): OptimizerState {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...rest } = g;
      return { ...rest, params: params.map((p) => index.set(p, index.size).get(p)!) };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const copy: ParamState = { step: s.step };
      for (const [k, v] of Object.entries(s))
        if (k !== "step") copy[k] = typeof v === "number" ? v : keep((v as Tensor).clone());
      state[i] = copy;
    }
    return { state, paramGroups };
  }

  /** Restores state and hyper-parameters saved by `stateDict` (group and parameter counts and shapes must match). */
  loadStateDict(sd: OptimizerState): void {
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(
        `loadStateDict: ${sd.paramGroups.length} parameter groups saved, optimizer has ${this.paramGroups.length}`,
      );
    }
    const flat: Tensor[] = [];
    sd.paramGroups.forEach((saved, gi) => {
      const group = this.paramGroups[gi];
      const ids = saved.params as number[];
      if (ids.length !== group.params.length) {
        throw new Error(
          `loadStateDict: group ${gi} saved ${ids.length} parameters, optimizer has ${group.params.length}`,
        );
      }
      for (const [k, v] of Object.entries(saved)) if (k !== "params") group[k] = v;
      ids.forEach((id, j) => {
        flat[id] = group.params[j];
      });
    });
    for (const s of this.state.values())
      for (const v of Object.values(s)) if (typeof v !== "number") v.dispose();
    this.state.clear();
    for (const [id, s] of Object.entries(sd.state)) {
      const p = flat[Number(id)];
      if (!p) throw new Error(`loadStateDict: state for parameter ${id}, which no group lists`);
      const copy: ParamState = { step: s.step };
      for (const [k, v] of Object.entries(s)) {
        if (k === "step") continue;
        if (typeof v === "number") copy[k] = v;
        else {
          if (v.size !== p.size)
            throw new Error(
              `loadStateDict: state ${k} of parameter ${id} is ${fmtShape(v.shape)}, parameter is ${fmtShape(p.shape)}`,
            );
          // tidy: the reshape is a view of the caller's tensor; only the clone is kept.
          copy[k] = keep(tidy(() => noGrad(() => v.reshape(p.shape).clone())));
        }
      }
      this.state.set(p, copy);
    }
  }

  /** Disposes the state tensors. */
  dispose(): void {
    for (const s of this.state.values())
      for (const v of Object.values(s)) if (typeof v !== "number") v.dispose();
    this.state.clear();
  }
}

/** Copies value into param's storage in place (param keeps its identity). */
export function assign(param: Tensor, value: Tensor): void {
  param.backend.copy(value._view("assign"), {
    buffer: bufferOf(param),
    shape: param.shape,
    strides: param.strides,
    offset: param.offset,
  });
}

/** Returns obj without its undefined fields (so explicit undefined options keep their defaults). */
export function defined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Returns an optimizer state dict as flat named tensors ("state.3.expAvg") plus JSON metadata (steps
 * and parameter groups), the form `optimizer.safetensors` stores; `unflattenState` inverts it.
 */
export function flattenState(sd: OptimizerState): {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
} {
  const tensors: Record<string, Tensor> = {};
  const steps: Record<string, Record<string, number>> = {};
  for (const [id, s] of Object.entries(sd.state)) {
    steps[id] = {};
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === "number") steps[id][k] = v;
      else tensors[`state.${id}.${k}`] = v;
    }
  }
  return {
    tensors,
    metadata: { paramGroups: JSON.stringify(sd.paramGroups), scalars: JSON.stringify(steps) },
  };
}

/** Returns the state dict that `flattenState` flattened (throws naming a malformed field). */
export function unflattenState(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string>,
): OptimizerState {
  let paramGroups: Record<string, unknown>[];
  let scalars: Record<string, Record<string, number>>;
  try {
    paramGroups = JSON.parse(metadata.paramGroups);
    scalars = JSON.parse(metadata.scalars);
  } catch {
    throw new Error('unflattenState: metadata fields "paramGroups" and "scalars" must hold JSON');
  }
  if (!Array.isArray(paramGroups))
    throw new Error('unflattenState: metadata field "paramGroups" is not a list');
  const state: Record<number, ParamState> = {};
  for (const [id, s] of Object.entries(scalars)) state[Number(id)] = { step: 0, ...s };
  for (const [name, t] of Object.entries(tensors)) {
    const m = /^state\.(\d+)\.(.+)$/.exec(name);
    if (!m) throw new Error(`unflattenState: tensor "${name}" is not named state.<index>.<field>`);
    const id = Number(m[1]);
    state[id] ??= { step: 0 };
    state[id][m[2]] = t;
  }
  return { state, paramGroups };
}
