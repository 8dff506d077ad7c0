// Batched autoregressive generation with a KV cache: one prefill over the left-padded prompts, then
// one decoder step a token; only the next-token logits of the rows still running come to the host.
// Rows that finish leave the batch (their cache rows are dropped), so short answers cost nothing later.
import { Rng } from "@sr2se/core";
import { cat, keep, noGrad, type Tensor, tensor, tidy, zeros } from "@sr2se/tensor";
import { collate, type SequenceInput } from "../data/batch.js";
import type { KVCache } from "../model/llama.js";
import type { VlmForConditionalGeneration } from "../model/vlm-model.js";
import type { VlmTokenizer } from "../tokenizer/tokenizer.js";
import {
  type Branch,
  type BranchHook,
  type BranchSource,
  decodeBranches,
  runBranches,
  windowMask,
} from "./branch.js";
import {
  argmax,
  entropyOf,
  logSoftmaxAt,
  type SamplingOptions,
  sampleToken,
  topLogprobs,
} from "./sampling.js";

export type { Branch, BranchHook } from "./branch.js";

/** Options of one generation batch. */
export interface DecodeOptions extends SamplingOptions {
  maxTokens: number;
  seed: number;
  stop: string[];
  /** Return the final hidden state that produced each of these generated tokens ("last", or indices; negative from the end). */
  hiddenStates?: "last" | number[];
  /** Use the KV cache (default true); false recomputes the whole sequence each step (the slow reference). */
  useCache?: boolean;
  /** Trial continuations forked from rows' KV caches after each decoder step, which may end rows early (needs the cache); the hook sees `requestIndex` values. */
  branches?: BranchHook;
  /** Also return each sampled token's entropy (nats, temperature 1). */
  entropy?: boolean;
  /** Also return the this-many likeliest tokens at each sampled position (temperature 1). */
  topLogprobs?: number;
  /** Per-request sampling seeds, indexed by `requestIndex`: a request with one samples from it alone, whatever its batch row. */
  requestSeeds?: readonly (number | undefined)[];
  /** Called with each request's tokens as they are sampled (its `requestIndex`, the id, its log-prob, and with `topLogprobs` the likeliest tokens). */
  onToken?: (request: number, id: number, logprob: number, top?: { id: number; logprob: number }[]) => void;
}

/** One finished sequence. */
export interface DecodedSequence {
  text: string;
  /** Set when a stop string cut the text. */
  stopped?: boolean;
  ids: number[];
  /** Log-probability (temperature 1) of each generated token. */
  logprobs: number[];
  finishReason: "stop" | "length";
  hidden?: Float32Array[];
  /** Entropy of each sampled token's distribution, with `entropy`. */
  entropies?: number[];
  /** The likeliest tokens at each sampled position, with `topLogprobs`. */
  top?: { id: number; logprob: number }[][];
  /** Set when a branch ended the request: its text ends with the branch (forced tokens have log-prob 0). */
  branch?: Branch;
}

const PAD_MASK = -1e9;
/** Cache slots are added this many at a time. */
const CACHE_BLOCK = 64;

/** Returns an additive mask [rows, 1, 1, keys] hiding each row's left pads and the keys from `visible` on, or null when nothing is hidden. */
function padMask(leftPad: number[], keys: number, visible: number): Tensor | null {
  if (leftPad.every((p) => p === 0) && visible >= keys) return null;
  const m = new Float32Array(leftPad.length * keys);
  leftPad.forEach((p, r) => {
    m.fill(PAD_MASK, r * keys, r * keys + p);
    m.fill(PAD_MASK, r * keys + visible, (r + 1) * keys);
  });
  return tensor(m, { shape: [leftPad.length, 1, 1, keys] });
}

/** Returns the generated continuations of prompts (token ids with at most one `<image>` each). */
export async function decode(
  model: VlmForConditionalGeneration,
  tok: VlmTokenizer,
  prompts: SequenceInput[],
  opts: DecodeOptions,
  requestIndex: number[] = prompts.map((_, i) => i),
): Promise<DecodedSequence[]> {
  const c = model.config;
  const E = c.text_config.hidden_size;
  const V = c.text_config.vocab_size;
  const S = c.vision_config.image_size;
  const collateOpts = {
    imageId: c.image_token_id,
    imageTokens: model.imageTokens,
    padId: c.pad_token_id,
    imageShape: [3, S, S] as [number, number, number],
  };
  const rngs = prompts.map((_, i) => {
    const own = opts.requestSeeds?.[requestIndex[i]];
    return new Rng(own !== undefined ? `request:${own}` : `${opts.seed}:${requestIndex[i]}`);
  });
  const out: DecodedSequence[] = prompts.map(() => ({
    text: "",
    ids: [],
    logprobs: [],
    finishReason: "length",
  }));
  const hidden: Float32Array[][] = prompts.map(() => []);
  const stopIds = new Set([tok.imEndId, tok.eosId]);
  const wantHidden = opts.hiddenStates !== undefined;
  const useCache = opts.useCache ?? true;
  if (opts.branches && !useCache) throw new Error("decode: branches need the KV cache (useCache true)");
  const entropies: number[][] = prompts.map(() => []);
  const tops: { id: number; logprob: number }[][][] = prompts.map(() => []);

  // rows[r]: the request decoded in batch row r; finished rows ride along until half the batch is done
  let rows = prompts.map((_, i) => i);
  const done = prompts.map(() => false);
  let cache: KVCache = [];
  let leftPad: number[] = [];
  let prefillLength = 0;
  let capacity = 0;

  const running = (): SequenceInput[] =>
    rows.map((i) => ({ ids: [...prompts[i].ids, ...out[i].ids], pixels: prompts[i].pixels }));

  // what a branch forks from after step t: the cache, where the next token goes, and each row's state
  const branchSource = (t: number): BranchSource => ({
    cache,
    capacity,
    next: prefillLength + t,
    leftPad,
    rows: rows.map((i) => requestIndex[i]),
    live: rows.map((i) => !done[i]),
    generated: rows.map((i) => out[i].ids),
  });
  for (let t = 0; t < opts.maxTokens && done.some((d) => !d); t++) {
    const prefill = t === 0 || !useCache;
    const before = cache.slice();
    // peeking branches: the forced tokens of rows at a step boundary ride in this forward after their last token
    const peek = opts.branches?.peek && !prefill ? opts.branches : null;
    const forced: (number[] | null)[] = rows.map((i) =>
      peek && !done[i] ? peek.fork(requestIndex[i], out[i].ids) : null,
    );
    const window = 1 + Math.max(0, ...forced.map((f) => f?.length ?? 0));
    const result = noGrad(() =>
      tidy(() => {
        let h: Tensor;
        if (prefill) {
          const col = collate(running(), { ...collateOpts, padLeft: true, padMultiple: 16 });
          leftPad = col.leftPad;
          prefillLength = col.inputs.length;
          capacity = Math.ceil((prefillLength + 1) / CACHE_BLOCK) * CACHE_BLOCK;
          h = model.forward(col.inputs, {
            start: 0,
            cache: useCache ? cache : undefined,
            capacity,
            mask: padMask(leftPad, prefillLength, prefillLength),
          });
        } else {
          // decoding the token at absolute position p: it fills cache slot p and sees slots ≤ p
          const p = prefillLength + t - 1;
          while (p + window > capacity) {
            // the cache grows a block at a time: few distinct shapes, attention over little more than the tokens so far
            for (const [l, kv] of cache.entries()) {
              const [b, h, , d] = kv.k.shape;
              cache[l] = {
                k: cat([kv.k, zeros([b, h, CACHE_BLOCK, d])], 2),
                v: cat([kv.v, zeros([b, h, CACHE_BLOCK, d])], 2),
              };
            }
            capacity += CACHE_BLOCK;
          }
          // slots after p that a window fills are overwritten by the row's own next tokens before it sees them
          const ids = new Int32Array(rows.length * window).fill(c.pad_token_id);
          rows.forEach((i, r) => {
            ids[r * window] = out[i].ids.length > 0 ? out[i].ids[out[i].ids.length - 1] : c.pad_token_id;
            ids.set(forced[r] ?? [], r * window + 1);
          });
          const inputs = {
            ids,
            batch: rows.length,
            length: window,
            pixels: null,
            imageSlots: new Int32Array(ids.length).fill(-1),
          };
          h = model.forward(inputs, {
            start: p,
            cache,
            capacity,
            mask: window > 1 ? windowMask(leftPad, capacity, p, window) : padMask(leftPad, capacity, p + 1),
          });
        }
        const last = (prefill ? h.narrow(1, h.shape[1] - 1, 1) : h.narrow(1, 0, 1)).reshape([h.shape[0], E]);
        const trial =
          window > 1
            ? h
                .narrow(1, 1, window - 1)
                .reshape([h.shape[0] * (window - 1), E])
                .contiguous()
            : null;
        return {
          logits: model.logits(last),
          last: wantHidden ? last.contiguous() : null,
          trial,
          trialLogits: trial ? model.logits(trial) : null,
          cache: useCache ? cache : [],
        };
      }),
    );
    const logits = (await result.logits.data()) as Float32Array;
    const hid = result.last ? ((await result.last.data()) as Float32Array) : null;
    const trialHidden = result.trial ? ((await result.trial.data()) as Float32Array) : null;
    const trialLogits = result.trialLogits ? ((await result.trialLogits.data()) as Float32Array) : null;
    result.logits.dispose();
    result.last?.dispose();
    result.trial?.dispose();
    result.trialLogits?.dispose();
    cache = result.cache;
    for (const [l, kv] of before.entries()) {
      if (kv.k !== cache[l]?.k) kv.k.dispose();
      if (kv.v !== cache[l]?.v) kv.v.dispose();
    }
    const endWith = (b: Branch) => {
      const i = requestIndex.indexOf(b.request);
      const o = out[i];
      o.text = tok.decode([...o.ids, ...b.forced]) + b.text;
      o.ids.push(...b.forced, ...b.ids);
      o.logprobs.push(...b.forced.map(() => 0), ...b.logprobs);
      o.stopped = true;
      o.finishReason = "stop";
      o.branch = b;
      done[i] = true;
    };
    if (peek && trialLogits && trialHidden) {
      // the first token of each row's trial answer, read where its forced tokens end
      const asks: { r: number; forced: number[] }[] = [];
      const firsts: Branch[] = [];
      forced.forEach((f, r) => {
        if (!f || f.length === 0) return;
        const at = r * (window - 1) + f.length - 1;
        const row = trialLogits.subarray(at * V, (at + 1) * V);
        const id = argmax(row);
        const text = tok.decode([id]);
        const cut = peek.until(text);
        asks.push({ r, forced: f });
        firsts.push({
          request: requestIndex[rows[r]],
          at: out[rows[r]].ids.length,
          forced: f,
          ids: [id],
          logprobs: [logSoftmaxAt(row, id)],
          entropies: [entropyOf(row)],
          text: cut >= 0 ? text.slice(0, cut) : text,
          closed: cut >= 0,
          hidden: trialHidden.slice(at * E, (at + 1) * E),
        });
      });
      const ends = new Set(firsts.length > 0 ? await peek.decide(firsts) : []);
      const ending = asks.filter((a) => ends.has(requestIndex[rows[a.r]]));
      if (ending.length > 0) {
        // the cache holds each row's last token at p and its forced tokens after it: a fork re-feeds the forced tokens from p + 1
        const full = await decodeBranches(model, tok, peek, branchSource(t), ending);
        full.forEach(endWith);
      }
    } else if (opts.branches && (!opts.branches.peek || t === 0)) {
      // the cache now holds each row's prompt and every token it has generated: the next slot is p
      const ended = await runBranches(model, tok, opts.branches, branchSource(t));
      ended.forEach(endWith);
    }
    rows.forEach((i, r) => {
      if (done[i]) return;
      const row = logits.subarray(r * V, (r + 1) * V);
      const id = sampleToken(row, opts, rngs[i]);
      const o = out[i];
      o.ids.push(id);
      const logprob = logSoftmaxAt(row, id);
      o.logprobs.push(logprob);
      if (opts.entropy) entropies[i].push(entropyOf(row));
      const top = opts.topLogprobs ? topLogprobs(row, opts.topLogprobs) : undefined;
      if (top) tops[i].push(top);
      opts.onToken?.(requestIndex[i], id, logprob, top);
      if (hid) hidden[i].push(hid.slice(r * E, (r + 1) * E));
      if (stopIds.has(id)) {
        o.finishReason = "stop";
        done[i] = true;
      } else if (opts.stop.length > 0) {
        const text = tok.decode(o.ids);
        const at = Math.min(...opts.stop.map((s) => (s ? text.indexOf(s) : -1)).filter((k) => k >= 0));
        if (Number.isFinite(at)) {
          o.text = text.slice(0, at);
          o.stopped = true;
          o.finishReason = "stop";
          done[i] = true;
        }
      }
    });
    const live = rows.map((i, r) => (done[i] ? -1 : r)).filter((r) => r >= 0);
    if (useCache && live.length > 0 && live.length <= rows.length / 2) {
      const index = tensor(Int32Array.from(live), { dtype: "int32" });
      cache = cache.map((kv) => {
        const next = { k: keep(kv.k.indexSelect(0, index)), v: keep(kv.v.indexSelect(0, index)) };
        kv.k.dispose();
        kv.v.dispose();
        return next;
      });
      index.dispose();
      leftPad = live.map((r) => leftPad[r]);
      rows = live.map((r) => rows[r]);
    } else if (!useCache) rows = rows.filter((i) => !done[i]);
  }
  for (const kv of cache) {
    kv.k.dispose();
    kv.v.dispose();
  }
  return out.map((o, i) => {
    const body =
      o.finishReason === "stop" && stopIds.has(o.ids[o.ids.length - 1]) ? o.ids.slice(0, -1) : o.ids;
    const text = o.stopped ? o.text : tok.decode(body);
    let hs: Float32Array[] | undefined;
    if (opts.hiddenStates !== undefined) {
      const all = hidden[i];
      const picks = opts.hiddenStates === "last" ? [-1] : opts.hiddenStates;
      hs = picks
        .map((p) => all[p < 0 ? all.length + p : p])
        .filter((h): h is Float32Array => h !== undefined);
    }
    return {
      ...o,
      text,
      hidden: hs,
      ...(opts.entropy ? { entropies: entropies[i] } : {}),
      ...(opts.topLogprobs ? { top: tops[i] } : {}),
    };
  });
}
