// A toy character-level language model (a bigram model: embedding → linear) for trainer tests.
import { nn, type Tensor, tensor, tidy } from "@sr2se/tensor";
import type { CompletionRequest, ScoredCompletions } from "../src/tensor.js";
import { sequenceLogProbs } from "../src/tensor.js";

const VOCAB = "^abcdefgh?yn.";

function encode(text: string): number[] {
  return Array.from(text, (ch) => {
    const id = VOCAB.indexOf(ch);
    if (id < 1) throw new Error(`ToyLM: character "${ch}" is not in the vocabulary`);
    return id;
  });
}

export class ToyLM extends nn.Module {
  emb: nn.Embedding;
  head: nn.Linear;
  readonly config: { vocab: number; dim: number };

  constructor(seed: number, dim = 8) {
    super();
    this.emb = new nn.Embedding(VOCAB.length, dim, { seed });
    this.head = new nn.Linear(dim, VOCAB.length, { seed: seed + 1 });
    this.config = { vocab: VOCAB.length, dim };
  }

  /** Returns next-token logits [B, T, V] for int32 ids [B, T]. */
  forward(ids: Tensor): Tensor {
    return this.head.forward(this.emb.forward(ids));
  }

  /** Returns the summed log-probs of each completion after "^" + prompt, and its token count. */
  sequenceLogProbs(requests: CompletionRequest[]): ScoredCompletions {
    const seqs = requests.map((r) => ({
      ids: [0, ...encode(r.prompt), ...encode(r.completion)],
      start: 1 + r.prompt.length,
    }));
    const n = seqs.length;
    const t = Math.max(...seqs.map((s) => s.ids.length)) - 1;
    const inputs = new Int32Array(n * t);
    const labels = new Int32Array(n * t).fill(-100);
    const mask = new Uint8Array(n * t);
    seqs.forEach(({ ids, start }, i) => {
      for (let j = 0; j + 1 < ids.length; j++) {
        inputs[i * t + j] = ids[j];
        labels[i * t + j] = ids[j + 1];
        mask[i * t + j] = j + 1 >= start ? 1 : 0;
      }
    });
    return tidy(() => {
      const logits = this.forward(tensor(inputs, { dtype: "int32", shape: [n, t] }));
      const out = sequenceLogProbs(
        logits,
        tensor(labels, { dtype: "int32", shape: [n, t] }),
        tensor(mask, { dtype: "bool", shape: [n, t] }),
      );
      return { sum: out.sum, tokens: out.tokens };
    });
  }
}

/** Returns `count` synthetic pairs: prompt a letter, chosen the right "y."/"n." answer, rejected the other. */
export function syntheticPairs(count: number) {
  const letters = "abcdefgh";
  return Array.from({ length: count }, (_, i) => {
    const prompt = letters[i % letters.length];
    const right = "aceg".includes(prompt) ? "y" : "n";
    const wrong = right === "y" ? "n" : "y";
    return {
      id: `p-${i}`,
      sample_id: `s-${i % letters.length}`,
      prompt,
      chosen: `${right}.`,
      rejected: `${wrong}.`,
    };
  });
}

/** Returns a copy of every parameter's values, by name. */
export async function snapshot(model: nn.Module): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, p] of model.namedParameters())
    out[name] = Array.from((await p.data()) as ArrayLike<number>);
  return out;
}
