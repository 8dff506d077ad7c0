import type { GenerateOptions, GenerateRequest, Generation, VisionLanguagePolicy } from "./policy.js";

/** Options of a `PolicyBatcher`. */
export interface PolicyBatcherOptions {
  /** Largest batch of requests in one `policy.generate` call (default 16). */
  maxBatch?: number;
  /** Most `policy.generate` calls running at once (default 1: the policy owns the device). */
  maxInFlight?: number;
  /**
   * How long the first request of a batch waits for others while a call slot is free, in ms. 0 (the
   * default) waits for the current turn of the event loop only: every caller ready now joins.
   */
  windowMs?: number;
}

/** Counters of the calls a batcher made. */
export interface BatcherCounters {
  calls: number;
  requests: number;
}

interface Pending {
  request: GenerateRequest;
  /** Arrival order, for fairness between option sets. */
  order: number;
  resolve: (g: Generation) => void;
  reject: (e: unknown) => void;
  /** Whether the policy streamed a token of this request (it is then not sent again). */
  streamed?: boolean;
}

interface Queue {
  options: GenerateOptions;
  items: Pending[];
}

/**
 * Gathers single requests from many callers into `policy.generate` batches of up to `maxBatch`
 * requests that share the same options, with at most `maxInFlight` calls running. While calls run,
 * new requests wait and so form fuller batches; when a call ends, a full batch goes first, else the
 * one waiting longest. `sr2se serve` and IPR's engine both batch through it.
 */
export class PolicyBatcher {
  readonly counters: BatcherCounters = { calls: 0, requests: 0 };
  private readonly queues = new Map<string, Queue>();
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly windowMs: number;
  private inFlight = 0;
  private arrivals = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(
    private readonly policy: VisionLanguagePolicy,
    options: PolicyBatcherOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 16;
    this.maxInFlight = options.maxInFlight ?? 1;
    this.windowMs = options.windowMs ?? 0;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1)
      throw new RangeError(`PolicyBatcher: maxBatch must be a positive integer, got ${this.maxBatch}`);
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1)
      throw new RangeError(`PolicyBatcher: maxInFlight must be a positive integer, got ${this.maxInFlight}`);
    if (!(this.windowMs >= 0))
      throw new RangeError(`PolicyBatcher: windowMs must be a number >= 0, got ${this.windowMs}`);
  }

  /** Returns the policy's generation for one request, sent as part of a batch. */
  generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<Generation> {
    const key = optionsKey(options);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { options, items: [] };
      this.queues.set(key, queue);
    }
    const items = queue.items;
    const order = this.arrivals++;
    const promise = new Promise<Generation>((resolve, reject) => {
      const pending: Pending = { request, order, resolve, reject };
      const onToken = request.onToken;
      if (onToken)
        pending.request = {
          ...request,
          onToken: (t) => {
            pending.streamed = true;
            onToken(t);
          },
        };
      items.push(pending);
    });
    if (items.length >= this.maxBatch) this.pump();
    else this.schedule();
    return promise;
  }

  /** Requests waiting for a call. */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.items.length;
    return n;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.inFlight >= this.maxInFlight) return;
    const fire = () => {
      this.timer = undefined;
      this.pump();
    };
    this.timer = this.windowMs > 0 ? setTimeout(fire, this.windowMs) : setImmediate(fire);
  }

  private pump(): void {
    if (this.timer !== undefined) {
      if (this.windowMs > 0) clearTimeout(this.timer as NodeJS.Timeout);
      else clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    while (this.inFlight < this.maxInFlight) {
      const queue = this.pick();
      if (!queue) return;
      const batch = queue.items.splice(0, this.maxBatch);
      if (queue.items.length === 0) this.queues.delete(optionsKey(queue.options));
      this.dispatch(queue.options, batch);
    }
  }

  /** A full batch first, else the queue waiting longest. */
  private pick(): Queue | undefined {
    let best: Queue | undefined;
    for (const q of this.queues.values()) {
      const head = q.items[0];
      if (!head) continue;
      if (q.items.length >= this.maxBatch) return q;
      if (!best || head.order < (best.items[0] as Pending).order) best = q;
    }
    return best;
  }

  private dispatch(options: GenerateOptions, batch: Pending[]): void {
    this.inFlight++;
    this.counters.calls++;
    this.counters.requests += batch.length;
    const settle = (fn: () => void) => {
      this.inFlight--;
      fn();
      // what queued while the call ran has waited long enough: it goes now
      this.pump();
    };
    let call: Promise<Generation[]>;
    try {
      call = Promise.resolve(
        this.policy.generate(
          batch.map((p) => p.request),
          options,
        ),
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
      (err) => {
        if (batch.length === 1) {
          settle(() => batch[0]?.reject(err));
          return;
        }
        // one bad request (a broken image, a prompt too long) must not fail the others: each is tried
        // alone, in this same call slot, and only what fails alone fails
        void this.alone(options, batch, err).then(() => settle(() => {}));
      },
    );
  }

  /** Sends each request of a failed batch by itself; one that already streamed tokens gets the batch's error. */
  private async alone(options: GenerateOptions, batch: Pending[], batchError: unknown): Promise<void> {
    for (const p of batch) {
      if (p.streamed) {
        p.reject(batchError);
        continue;
      }
      try {
        const [g] = await this.policy.generate([p.request], options);
        if (!g || typeof g.text !== "string")
          p.reject(new Error("policy.generate: generation 0 has no text"));
        else p.resolve(g);
      } catch (err) {
        p.reject(err);
      }
    }
  }
}

/** Requests batch together only when every generation option (any field a caller sets) is the same. */
function optionsKey(o: GenerateOptions): string {
  const set = Object.entries(o).filter(([, v]) => v !== undefined);
  set.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(set);
}
