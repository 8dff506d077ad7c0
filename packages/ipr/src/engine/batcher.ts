import type { GenerateOptions, GenerateRequest, Generation, VisionLanguagePolicy } from "@sr2se/core";

interface Pending {
  request: GenerateRequest;
  resolve: (g: Generation) => void;
  reject: (e: unknown) => void;
}

interface Queue {
  options: GenerateOptions;
  items: Pending[];
}

/** Counters of the calls a batcher made. */
export interface BatcherCounters {
  calls: number;
  requests: number;
}

/**
 * Gathers single requests from many concurrent sample workers into `policy.generate` batches of up
 * to `batchSize` requests that share the same options, with at most `maxInFlight` calls running.
 * While calls are running, new requests wait and so form fuller batches.
 */
export class PolicyBatcher {
  private readonly queues = new Map<string, Queue>();
  private inFlight = 0;
  private scheduled = false;
  readonly counters: BatcherCounters = { calls: 0, requests: 0 };

  constructor(
    private readonly policy: VisionLanguagePolicy,
    private readonly batchSize: number,
    private readonly maxInFlight: number,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new Error(`maxInFlight must be a positive integer, got ${maxInFlight}`);
    }
  }

  /** Returns the policy's generation for one request, sent as part of a batch. */
  generate(request: GenerateRequest, options: GenerateOptions): Promise<Generation> {
    const key = optionsKey(options);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { options, items: [] };
      this.queues.set(key, queue);
    }
    const items = queue.items;
    const promise = new Promise<Generation>((resolve, reject) => {
      items.push({ request, resolve, reject });
    });
    if (items.length >= this.batchSize) this.pump();
    else this.schedule();
    return promise;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // let every worker that is ready this turn add its request before a batch leaves
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      const queue = this.fullest();
      if (!queue) return;
      const batch = queue.items.splice(0, this.batchSize);
      this.dispatch(queue.options, batch);
    }
  }

  private fullest(): Queue | undefined {
    let best: Queue | undefined;
    for (const q of this.queues.values())
      if (q.items.length > 0 && (!best || q.items.length > best.items.length)) best = q;
    return best;
  }

  private dispatch(options: GenerateOptions, batch: Pending[]): void {
    this.inFlight++;
    this.counters.calls++;
    this.counters.requests += batch.length;
    const settle = (fn: () => void) => {
      this.inFlight--;
      fn();
      this.pump();
    };
    let call: Promise<Generation[]>;
    try {
      call = this.policy.generate(
        batch.map((p) => p.request),
        options,
      );
    } catch (err) {
      call = Promise.reject(err);
    }
    call.then(
      (generations) =>
        settle(() => {
          if (!Array.isArray(generations) || generations.length !== batch.length) {
            const got = Array.isArray(generations) ? generations.length : typeof generations;
            const err = new Error(`policy.generate returned ${got} generations for ${batch.length} requests`);
            for (const p of batch) p.reject(err);
            return;
          }
          batch.forEach((p, i) => {
            const g = generations[i];
            if (!g || typeof g.text !== "string")
              p.reject(new Error(`policy.generate: generation ${i} has no text`));
            else p.resolve(g);
          });
        }),
      (err) =>
        settle(() => {
          for (const p of batch) p.reject(err);
        }),
    );
  }
}

function optionsKey(o: GenerateOptions): string {
  return `${o.temperature ?? ""}|${o.topP ?? ""}|${o.maxTokens ?? ""}|${o.seed ?? ""}|${o.stop?.join("\u0000") ?? ""}`;
}
