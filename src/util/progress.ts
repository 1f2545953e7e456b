/** Where a progress line goes (a terminal or any writable stream). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressOptions {
  /** Rewrite one line in place (a terminal); otherwise every update is a line of its own. */
  tty: boolean;
  /** Fewest milliseconds between two updates (default: 250 on a terminal, 2,000 otherwise). */
  minIntervalMs?: number;
  now?: () => number;
}

/**
 * A progress line: on a terminal rewritten in place, elsewhere printed as lines, at most one update per
 * interval and never the same text twice in a row.
 */
export class ProgressLine {
  private lastAt = -Infinity;
  private lastText = "";
  private shown = false;
  private readonly minIntervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly out: ProgressStream,
    private readonly opts: ProgressOptions,
  ) {
    this.minIntervalMs = opts.minIntervalMs ?? (opts.tty ? 250 : 2000);
    this.now = opts.now ?? Date.now;
  }

  /** Shows `text` unless the last update is too recent (`force` shows it anyway) or it did not change. */
  update(text: string, force = false): void {
    if (text === this.lastText) return;
    const now = this.now();
    if (!force && now - this.lastAt < this.minIntervalMs) return;
    this.lastAt = now;
    this.lastText = text;
    if (this.opts.tty) {
      this.out.write(`\r\x1b[K${text}`);
      this.shown = true;
    } else this.out.write(`${text}\n`);
  }

  /** Removes the line from a terminal (before other output or at the end). */
  clear(): void {
    if (this.opts.tty && this.shown) this.out.write("\r\x1b[K");
    this.shown = false;
    this.lastText = "";
  }
}

/** A short duration for an ETA: `45s`, `3m05s`, `1h02m`. */
export function formatEta(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
