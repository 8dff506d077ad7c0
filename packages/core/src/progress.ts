import cliProgress from "cli-progress";

/** Options of a progress display. */
export interface ProgressOptions {
  label: string;
  total?: number;
  unit?: string;
  /** Where to write (default stderr). */
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Plain mode: ms between lines (default 5000). */
  intervalMs?: number;
  /** Force plain lines even on a TTY (or a bar off a TTY). */
  plain?: boolean;
}

/** A running progress display. */
export interface Progress {
  tick(n?: number, info?: Record<string, string | number>): void;
  update(value: number, info?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * A progress display on stderr: a bar with rate and ETA on a TTY (cli-progress), plain periodic lines
 * otherwise (CI logs, files), and a final line on stop.
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = (options.stream ?? process.stderr) as NodeJS.WriteStream;
  const plain = options.plain ?? !stream.isTTY;
  return plain ? new LineProgress(options, stream) : new BarProgress(options, stream);
}

function formatInfo(info: Record<string, string | number> | undefined): string {
  if (!info) return "";
  return Object.entries(info)
    .map(([k, v]) => ` ${k}=${typeof v === "number" && !Number.isInteger(v) ? v.toPrecision(4) : v}`)
    .join("");
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

class LineProgress implements Progress {
  private value = 0;
  private info: Record<string, string | number> | undefined;
  private readonly started = Date.now();
  private last = 0;
  private stopped = false;
  constructor(
    private readonly options: ProgressOptions,
    private readonly stream: NodeJS.WritableStream,
  ) {}
  tick(n = 1, info?: Record<string, string | number>): void {
    this.update(this.value + n, info);
  }
  update(value: number, info?: Record<string, string | number>): void {
    this.value = value;
    if (info) this.info = info;
    const now = Date.now();
    if (now - this.last >= (this.options.intervalMs ?? 5000)) {
      this.last = now;
      this.print();
    }
  }
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.print(true);
  }
  private print(final = false): void {
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = elapsed > 0 ? this.value / elapsed : 0;
    const unit = this.options.unit ?? "it";
    const total = this.options.total;
    let line = `${this.options.label}: ${this.value}`;
    if (total) line += `/${total} (${((100 * this.value) / total).toFixed(1)}%)`;
    line += ` ${rate.toFixed(1)} ${unit}/s`;
    if (total && !final && rate > 0) line += ` ETA ${formatDuration((total - this.value) / rate)}`;
    if (final) line += ` done in ${formatDuration(elapsed)}`;
    this.stream.write(`${line}${formatInfo(this.info)}\n`);
  }
}

class BarProgress implements Progress {
  private readonly bar: cliProgress.SingleBar;
  private value = 0;
  private readonly started = Date.now();
  constructor(options: ProgressOptions, stream: NodeJS.WriteStream) {
    const unit = options.unit ?? "it";
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: options.total
          ? `${options.label} [{bar}] {value}/{total} {percentage}% | {rate} ${unit}/s | ETA {eta_formatted}{info}`
          : `${options.label} {value} ${unit} | {rate} ${unit}/s{info}`,
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(options.total ?? 0, 0, { rate: "0.0", info: "" });
  }
  tick(n = 1, info?: Record<string, string | number>): void {
    this.update(this.value + n, info);
  }
  update(value: number, info?: Record<string, string | number>): void {
    this.value = value;
    const elapsed = (Date.now() - this.started) / 1000;
    const payload: Record<string, string> = { rate: (elapsed > 0 ? value / elapsed : 0).toFixed(1) };
    if (info) payload.info = formatInfo(info);
    this.bar.update(value, payload);
  }
  stop(): void {
    this.bar.stop();
  }
}
