// Reverse-mode autograd, micrograd-simple: each op that needs a gradient leaves a Node naming its
// rule in the GRADIENTS table (gradients.ts) and the tensors that rule needs; backward sorts the
// graph topologically, runs the rules, and frees the graph and its saved tensors.
import type { Tensor } from "./tensor.js";

/** One recorded op. */
export class Node {
  /** Per input: its node when that input needs a gradient, else null. */
  inputs: (Node | null)[];
  saved: Tensor[];
  /** Users: the tensor holding this node plus each downstream node. */
  refs = 1;
  freed = false;
  constructor(
    readonly op: string,
    inputs: (Node | null)[],
    saved: Tensor[],
    readonly attrs: Record<string, unknown>,
    /** Set for leaves (tensors made by the user with requiresGrad). */
    readonly leaf: Tensor | null = null,
  ) {
    this.inputs = inputs;
    this.saved = saved;
    for (const n of inputs) if (n) n.refs++;
  }
  /** Drops one user; the last one frees saved tensors and lets go of the inputs. */
  decref(): void {
    if (--this.refs > 0) return;
    this.free();
  }
  /** Releases the saved tensors only (backward calls it once the node's rule has run). */
  releaseSaved(): void {
    for (const t of this.saved) t.dispose();
    this.saved = [];
  }
  /** Releases saved tensors and input links now (after backward, or when unreachable). */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const t of this.saved) t.dispose();
    this.saved = [];
    const inputs = this.inputs;
    this.inputs = inputs.map(() => null);
    for (const n of inputs) n?.decref();
  }
}

let gradEnabled = true;

/** Returns whether ops currently record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording the graph and returns its result. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  let result: T;
  try {
    result = fn();
  } finally {
    gradEnabled = prev;
  }
  if (result instanceof Promise) {
    throw new Error(
      "noGrad: fn returned a Promise; grad mode cannot span an await (wrap the synchronous part)",
    );
  }
  return result;
}

/** Returns the nodes reachable from root, inputs before users. */
export function topoSort(root: Node): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  const stack: [Node, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const next = node.inputs[i];
      if (next && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(node);
      stack.pop();
    }
  }
  return order;
}
