// Seeded initializers (torch.nn.init): each fills a tensor in place and returns it.
import { allocHost } from "../backend/backend.js";
import { bufferOf } from "../ops/core.js";
import { type Generator, resolveGenerator } from "../random.js";
import { fmtShape, type Tensor } from "../tensor.js";

/** Random-source options of the initializers. */
export interface InitRandom {
  seed?: number;
  generator?: Generator;
}

function fillWith(t: Tensor, draw: () => number): Tensor {
  if (
    !t.strides.every(
      (s, i) =>
        s === t.strides.slice(i + 1).reduce((acc, _, j) => acc * t.shape[i + 1 + j], 1) || t.shape[i] <= 1,
    )
  ) {
    throw new Error(`init: tensor ${fmtShape(t.shape)} is a strided view; initialise a contiguous tensor`);
  }
  const host = allocHost(t.dtype, t.size);
  for (let i = 0; i < host.length; i++) host[i] = draw();
  t.backend.write(bufferOf(t), host, t.offset);
  return t;
}

/** Overwrites t's elements, in row-major order, with host values of the same count; returns t. */
export function copyFrom(t: Tensor, values: ArrayLike<number>): Tensor {
  if (values.length !== t.size)
    throw new Error(`init.copyFrom: ${values.length} values for a tensor ${fmtShape(t.shape)} of ${t.size}`);
  let i = 0;
  return fillWith(t, () => values[i++]);
}

/** Returns [fanIn, fanOut] of a weight shaped [out, in, ...receptive]. */
export function fans(t: Tensor): [number, number] {
  if (t.ndim < 2) throw new Error(`init: fan in/out need at least 2 dims, got ${fmtShape(t.shape)}`);
  let receptive = 1;
  for (let i = 2; i < t.ndim; i++) receptive *= t.shape[i];
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

/** Fills t with N(mean, std²); returns t. */
export function normal(t: Tensor, mean = 0, std = 1, rnd: InitRandom = {}): Tensor {
  const g = resolveGenerator(rnd.seed, rnd.generator);
  return fillWith(t, () => mean + std * g.normal());
}
/** Fills t with U(low, high); returns t. */
export function uniform(t: Tensor, low = 0, high = 1, rnd: InitRandom = {}): Tensor {
  const g = resolveGenerator(rnd.seed, rnd.generator);
  return fillWith(t, () => low + (high - low) * g.random());
}
/** Fills t with a constant; returns t. */
export function constant(t: Tensor, value: number): Tensor {
  return fillWith(t, () => value);
}
/** Fills t with U(−a, a), a = gain·√(6/(fanIn+fanOut)); returns t. */
export function xavierUniform(t: Tensor, gain = 1, rnd: InitRandom = {}): Tensor {
  const [fi, fo] = fans(t);
  const a = gain * Math.sqrt(6 / (fi + fo));
  return uniform(t, -a, a, rnd);
}
/** Fills t with N(0, gain²·2/(fanIn+fanOut)); returns t. */
export function xavierNormal(t: Tensor, gain = 1, rnd: InitRandom = {}): Tensor {
  const [fi, fo] = fans(t);
  return normal(t, 0, gain * Math.sqrt(2 / (fi + fo)), rnd);
}
/** Fills t with U(−b, b), b = gain·√(3/fanIn), gain = √(2/(1+a²)) (PyTorch's leaky-relu default a = 0); returns t. */
export function kaimingUniform(t: Tensor, a = 0, rnd: InitRandom = {}): Tensor {
  const [fi] = fans(t);
  const gain = Math.sqrt(2 / (1 + a * a));
  const b = gain * Math.sqrt(3 / fi);
  return uniform(t, -b, b, rnd);
}
/** Fills t with N(0, gain²/fanIn), gain = √(2/(1+a²)); returns t. */
export function kaimingNormal(t: Tensor, a = 0, rnd: InitRandom = {}): Tensor {
  const [fi] = fans(t);
  return normal(t, 0, Math.sqrt(2 / (1 + a * a)) / Math.sqrt(fi), rnd);
}
