// Trial continuations forked from a batch's KV cache in the middle of decoding: after a decoder
// step, rows the hook asks for are copied out of the cache, fed their forced tokens in one forward,
// and decoded greedily until the hook's `until` cuts the text. The main rows never see the branch
// (its keys and values live in the copy), so a row can ask for a trial answer after every step of
// its response for the price of the trial's own tokens, and end right there when the hook says so.
import { cat, noGrad, type Tensor, tensor, tidy, zeros } from "@sr2se/tensor";
import type { KVCache } from "../model/llama.js";
import type { VlmForConditionalGeneration } from "../model/vlm-model.js";
import type { VlmTokenizer } from "../tokenizer/tokenizer.js";
import { argmax, entropyOf, logSoftmaxAt } from "./sampling.js";

/** One finished branch: what was forced after the request's generated tokens, and what followed greedily. */
export interface Branch {
  /** The request (its `requestIndex` in `decode`). */
  request: number;
  /** Tokens the request had generated when it branched. */
  at: number;
  /** The forced token ids. */
  forced: number[];
  /** Greedy continuation after the forced tokens, up to the token where `until` cut the text. */
  ids: number[];
  /** Log-prob (temperature 1) of each continuation token. */
  logprobs: number[];
  /** Entropy (nats) of each continuation token's distribution. */
  entropies: number[];
  /** The continuation's text, cut where `until` said. */
  text: string;
  /** Whether `until` cut the text (false: the branch ran out of tokens or ended the turn). */
  closed: boolean;
  /** Final hidden state at the last forced token (the state that chose the first continuation token). */
  hidden: Float32Array;
}

/** What `decode` asks of its caller about branches, after each decoder step. */
export interface BranchHook {
  /** Forced tokens to branch request `request` with now (its cache holds the prompt and `generated`), or null. */
  fork(request: number, generated: readonly number[]): number[] | null;
  /** Where a continuation's text ends (the cut index), or −1 to go on. */
  until(text: string): number;
  /** Longest continuation after the forced tokens. */
  maxTokens: number;
  /**
   * Decide on the first continuation token alone (default false): after step 0, the forced tokens
   * ride in the main forward (in cache slots the row overwrites as it goes on), `decide` sees
   * branches of one token, and only the requests it ends are decoded further, from a fork. No extra
   * forward per step boundary, so a gate costs next to nothing while it keeps a row going.
   */
  peek?: boolean;
  /** Sees the branches of one decoder step; returns the requests that end now, their text continued by their branch. */
  decide(branches: Branch[]): Iterable<number> | Promise<Iterable<number>>;
}

/** The state of a decode batch that branches are forked from. */
export interface BranchSource {
  cache: KVCache;
  capacity: number;
  /** The next free cache slot (the position of the next token) of every row. */
  next: number;
  leftPad: number[];
  /** rows[r]: the request (its `requestIndex`) decoded in batch row r. */
  rows: number[];
  live: boolean[];
  generated: number[][];
}

const PAD_MASK = -1e9;
const BLOCK = 64;

/** Returns an additive mask [rows, 1, length, keys]: causal from slot `start`, left pads hidden. */
function branchMask(leftPad: number[], keys: number, start: number, length: number): Tensor {
  const m = new Float32Array(leftPad.length * length * keys).fill(PAD_MASK);
  leftPad.forEach((p, r) => {
    for (let i = 0; i < length; i++)
      m.fill(0, (r * length + i) * keys + p, (r * length + i) * keys + start + i + 1);
  });
  return tensor(m, { shape: [leftPad.length, 1, length, keys] });
}

function disposeReplaced(before: KVCache, after: KVCache): void {
  for (const [l, kv] of before.entries()) {
    if (kv.k !== after[l]?.k) kv.k.dispose();
    if (kv.v !== after[l]?.v) kv.v.dispose();
  }
}

/** Runs the branches the hook asks for after one decoder step; resolves to those the hook ends the request with. */
export async function runBranches(
  model: VlmForConditionalGeneration,
  tok: VlmTokenizer,
  hook: BranchHook,
  src: BranchSource,
): Promise<Branch[]> {
  const asks: { r: number; forced: number[] }[] = [];
  src.rows.forEach((request, r) => {
    if (!src.live[r]) return;
    const forced = hook.fork(request, src.generated[r]);
    if (forced && forced.length > 0) asks.push({ r, forced });
  });
  if (asks.length === 0) return [];
  const branches = await decodeBranches(model, tok, hook, src, asks);
  const ends = new Set(await hook.decide(branches));
  return branches.filter((b) => ends.has(b.request));
}

/** Decodes the branches of batch rows `asks` (forced tokens, then greedily until the hook's `until`), from copies of their cache. */
export async function decodeBranches(
  model: VlmForConditionalGeneration,
  tok: VlmTokenizer,
  hook: BranchHook,
  src: BranchSource,
  asks: { r: number; forced: number[] }[],
): Promise<Branch[]> {
  // rows forced with the same number of tokens share one forward
  const groups = new Map<number, typeof asks>();
  for (const a of asks) groups.set(a.forced.length, [...(groups.get(a.forced.length) ?? []), a]);
  const branches: Branch[] = [];
  for (const group of groups.values()) branches.push(...(await runGroup(model, tok, hook, src, group)));
  return branches;
}

/** Returns an additive mask [rows, 1, length, keys] for a window of tokens at slots start…: causal, left pads hidden. */
export function windowMask(leftPad: number[], keys: number, start: number, length: number): Tensor {
  return branchMask(leftPad, keys, start, length);
}

async function runGroup(
  model: VlmForConditionalGeneration,
  tok: VlmTokenizer,
  hook: BranchHook,
  src: BranchSource,
  group: { r: number; forced: number[] }[],
): Promise<Branch[]> {
  const E = model.config.text_config.hidden_size;
  const V = model.config.text_config.vocab_size;
  const b = group.length;
  const f = group[0].forced.length;
  const start = src.next;
  const capacity = Math.max(src.capacity, Math.ceil((start + f + hook.maxTokens) / BLOCK) * BLOCK);
  const leftPad = group.map((g) => src.leftPad[g.r]);
  let cache: KVCache = noGrad(() =>
    tidy(() => {
      const index = tensor(
        Int32Array.from(group, (g) => g.r),
        { dtype: "int32" },
      );
      return src.cache.map((kv) => {
        const grow = (t: Tensor) => {
          const picked = t.indexSelect(0, index);
          const [, h, cap, d] = picked.shape;
          return cap < capacity ? cat([picked, zeros([b, h, capacity - cap, d])], 2) : picked.contiguous();
        };
        return { k: grow(kv.k), v: grow(kv.v) };
      });
    }),
  );
  const out: Branch[] = group.map((g) => ({
    request: src.rows[g.r],
    at: src.generated[g.r].length,
    forced: g.forced,
    ids: [],
    logprobs: [],
    entropies: [],
    text: "",
    closed: false,
    hidden: new Float32Array(E),
  }));
  const finished = group.map(() => false);
  const step = async (ids: Int32Array, length: number, at: number, first: boolean) => {
    const before = cache.slice();
    const result = noGrad(() =>
      tidy(() => {
        const h = model.forward(
          { ids, batch: b, length, pixels: null, imageSlots: new Int32Array(b * length).fill(-1) },
          {
            start: at,
            cache,
            capacity,
            mask: branchMask(leftPad, capacity, at, length),
          },
        );
        const last = h.narrow(1, length - 1, 1).reshape([b, E]);
        return { logits: model.logits(last), last: first ? last.contiguous() : null, cache };
      }),
    );
    const logits = (await result.logits.data()) as Float32Array;
    if (result.last) {
      const hid = (await result.last.data()) as Float32Array;
      out.forEach((o, r) => {
        o.hidden.set(hid.subarray(r * E, (r + 1) * E));
      });
    }
    result.logits.dispose();
    result.last?.dispose();
    cache = result.cache;
    disposeReplaced(before, cache);
    return logits;
  };
  try {
    let logits = await step(Int32Array.from(group.flatMap((g) => g.forced)), f, start, true);
    for (let j = 0; j < hook.maxTokens; j++) {
      const next = new Int32Array(b);
      out.forEach((o, r) => {
        if (finished[r]) return;
        const row = logits.subarray(r * V, (r + 1) * V);
        const id = argmax(row);
        next[r] = id;
        o.ids.push(id);
        o.logprobs.push(logSoftmaxAt(row, id));
        o.entropies.push(entropyOf(row));
        if (id === tok.imEndId || id === tok.eosId) {
          o.ids.pop();
          o.logprobs.pop();
          o.entropies.pop();
          o.text = o.ids.length > 0 ? tok.decode(o.ids) : "";
          finished[r] = true;
          return;
        }
        const text = tok.decode(o.ids);
        const cut = hook.until(text);
        o.text = cut >= 0 ? text.slice(0, cut) : text;
        if (cut >= 0) {
          o.closed = true;
          finished[r] = true;
        }
      });
      if (finished.every(Boolean) || j + 1 === hook.maxTokens) break;
      logits = await step(next, 1, start + f + j, false);
    }
  } finally {
    for (const kv of cache) {
      kv.k.dispose();
      kv.v.dispose();
    }
  }
  return out;
}
