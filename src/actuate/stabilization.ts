/**
 * Scale-down stabilisation of the direct actuator, as the HPA does it: a lower target is applied only
 * once every recommendation of the last window was at most that low, so a dip in load does not remove
 * replicas that the next minutes need again. Higher targets apply at once. Pure: the caller passes the
 * time in.
 */

/** Default window, the HPA's default for scale-down (300 s). */
export const DEFAULT_SCALE_DOWN_STABILIZATION_MS = 300_000;

interface Recommendation {
  at: number;
  target: number;
}

export class ScaleDownStabilizer {
  private readonly history = new Map<string, Recommendation[]>();

  constructor(private readonly windowMs: number = DEFAULT_SCALE_DOWN_STABILIZATION_MS) {}

  get window(): number {
    return this.windowMs;
  }

  /**
   * Records the recommendation `target` for `key` at `now` and returns the target to apply: the highest
   * recommendation within the window (which is `target` itself when it is the highest). The first call
   * for a key starts the window with `current` (the replicas running then), as the HPA does, so a
   * restart does not scale down at once. A window of 0 applies every recommendation at once.
   */
  stabilize(key: string, target: number, now: number, current: number): number {
    const seen = this.history.get(key) ?? [{ at: now, target: current }];
    const list = seen.filter((r) => now - r.at < this.windowMs);
    list.push({ at: now, target });
    this.history.set(key, list);
    return list.reduce((m, r) => Math.max(m, r.target), target);
  }

  forget(key: string): void {
    this.history.delete(key);
  }
}
