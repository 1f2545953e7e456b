/** One line a pod's container wrote, with the time it was written. */
export interface LogLine {
  time: string;
  text: string;
}

interface PodLog {
  lines: LogLine[];
  listeners: Set<(line: LogLine | undefined) => void>;
}

/**
 * The emulated pods' container output, as `kubectl logs` reads it: a bounded buffer of lines per pod
 * (by uid) that can be read and followed. Followers get `undefined` when the pod goes away.
 */
export class PodLogs {
  private readonly pods = new Map<string, PodLog>();

  constructor(private readonly maxLines = 10_000) {}

  private entry(uid: string): PodLog {
    let e = this.pods.get(uid);
    if (!e) this.pods.set(uid, (e = { lines: [], listeners: new Set() }));
    return e;
  }

  /** Appends a line (a trailing newline is dropped; embedded newlines make several lines). */
  append(uid: string, text: string, now = new Date()): void {
    const e = this.entry(uid);
    for (const part of text.replace(/\r?\n$/, "").split(/\r?\n/)) {
      const line = { time: now.toISOString(), text: part };
      e.lines.push(line);
      for (const l of e.listeners) l(line);
    }
    if (e.lines.length > this.maxLines * 1.5) e.lines.splice(0, e.lines.length - this.maxLines);
  }

  /** The buffered lines, oldest first. */
  read(uid: string): LogLine[] {
    return [...(this.pods.get(uid)?.lines ?? [])];
  }

  /** Calls `onLine` for each new line, and with `undefined` once the pod is gone; returns a stop function. */
  follow(uid: string, onLine: (line: LogLine | undefined) => void): () => void {
    const e = this.entry(uid);
    e.listeners.add(onLine);
    return () => e.listeners.delete(onLine);
  }

  /** Forgets a deleted pod's output and ends its followers. */
  drop(uid: string): void {
    const e = this.pods.get(uid);
    this.pods.delete(uid);
    for (const l of e?.listeners ?? []) l(undefined);
  }
}
