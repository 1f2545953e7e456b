/**
 * A de-duplicating work queue: keys enqueued several times before the worker runs are processed
 * once. The worker runs on a later tick, so store listeners never re-enter the store.
 */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly worker: (key: string) => void | Promise<void>,
    private readonly onError: (key: string, err: unknown) => void = () => {},
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    const keys = [...this.pending];
    this.pending.clear();
    for (const k of keys) {
      if (this.stopped) return;
      try {
        await this.worker(k);
      } catch (err) {
        this.onError(k, err);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
  }
}

export const nsName = (ns: string | undefined, name: string): string => `${ns ?? ""}/${name}`;
export function splitKey(key: string): [string, string] {
  const i = key.indexOf("/");
  return [key.slice(0, i), key.slice(i + 1)];
}
