/**
 * State-dependent M/M/1 queue with finite capacity: a birth-death chain on 0..K requests in the
 * replica, arrivals at `lambda` in every state below K, departures at the batch completion rate of
 * min(n, N) requests in state n. Rates are in requests per ms, times in ms.
 */

/**
 * Ratio of arrival to service rate below which the remaining states are summed in closed form or cut
 * short (further from 1 than this, the geometric formulas lose no meaningful precision).
 */
const TAIL_RATIO = 0.999;
/** Relative size of a state below which the remaining states are negligible. */
const TAIL_CUTOFF = 1e-20;

export interface QueueSolution {
  /** Probability that the replica is empty. */
  emptyProbability: number;
  /** Probability that the replica is full (arrivals are refused). */
  fullProbability: number;
  /** 1 - P(empty). */
  busyProbability: number;
  /** Mean number of requests in the replica (waiting or in service). */
  meanInSystem: number;
  /** Mean number of requests in service, E[min(n, N)]. */
  meanInService: number;
  /** Departure rate, requests per ms (arrivals not lost to a full queue). */
  throughputPerMs: number;
  /** Mean response time, ms. */
  responseMs: number;
  /** Mean waiting time before service starts, ms (never negative). */
  waitMs: number;
  /** Mean time in service, ms. */
  serviceMs: number;
}

/**
 * Solves the chain with capacity `capacity` (= K) and service rates per batch size (`ratesPerMs[n-1]`
 * for n requests in service). Returns undefined for a negative or non-finite arrival rate and for
 * capacity < 2 (a replica that cannot hold one request in service plus one arriving has no steady state
 * this model can describe).
 */
export function solveStateDependentQueue(
  lambdaPerMs: number,
  ratesPerMs: readonly number[],
  capacity: number,
): QueueSolution | undefined {
  if (!(lambdaPerMs >= 0) || !Number.isFinite(lambdaPerMs) || capacity < 2 || ratesPerMs.length === 0) {
    return undefined;
  }
  const num = ratesPerMs.length;
  const q = new Float64Array(capacity + 1);
  q[0] = 1;
  // Unnormalised sums, divided by the total at the end.
  let total = 1;
  let inSystem = 0;
  let inServiceHead = 0;
  let headMass = 1;
  // Unnormalised probability of the full state; undefined until known.
  let full: number | undefined;
  // Largest state value for which the weighted sums over all K + 1 states stay finite.
  const limit = Number.MAX_VALUE / (capacity + 1) ** 2;
  for (let n = 0; n < capacity; n++) {
    const mu = ratesPerMs[(n + 1 < num ? n + 1 : num) - 1];
    let next = (q[n] * lambdaPerMs) / mu;
    if (!(next <= limit)) {
      // Rescale the states so far (and the sums) to keep every product and sum representable;
      // ratios, hence probabilities, stay the same.
      const scale = q[n];
      for (let i = 0; i <= n; i++) q[i] /= scale;
      total /= scale;
      inSystem /= scale;
      inServiceHead /= scale;
      headMass /= scale;
      next = lambdaPerMs / mu;
    }
    const i = n + 1;
    q[i] = next;
    total += next;
    inSystem += i * next;
    if (i <= num) {
      inServiceHead += i * next;
      headMass += next;
    }
    // Service rates never decrease with n, so once lambda < mu the remaining states shrink at least
    // geometrically; stop when they cannot change any sum (relative bound ~ 1e-20 · K / (1 - ratio)).
    if (lambdaPerMs < TAIL_RATIO * mu && next < TAIL_CUTOFF * total) {
      full = 0;
      break;
    }
    // Beyond N the rate is constant, so the queueing states are geometric with ratio r: sum them in
    // closed form, q(N + j) = q(N)·r^j for j = 1..m.
    if (i === num && i < capacity) {
      const r = lambdaPerMs / mu;
      if (r < TAIL_RATIO) {
        const m = capacity - num;
        const rm = r ** m;
        const s0 = (r * (1 - rm)) / (1 - r); // Σ r^j
        const s1 = (r * (1 - (m + 1) * rm + m * rm * r)) / ((1 - r) * (1 - r)); // Σ j·r^j
        total += next * s0;
        inSystem += next * (num * s0 + s1);
        full = next * rm;
        break;
      }
    }
  }
  full ??= q[capacity];
  const meanInSystem = inSystem / total;
  // E[min(n, N)]: n in service below N, N in service in every state from N up.
  const meanInService =
    num <= capacity ? (inServiceHead + num * (total - headMass)) / total : inServiceHead / total;
  const fullProbability = full / total;
  const throughputPerMs = lambdaPerMs * (1 - fullProbability);
  const responseMs = meanInSystem / throughputPerMs;
  const serviceMs = meanInService / throughputPerMs;
  return {
    emptyProbability: q[0] / total,
    fullProbability,
    busyProbability: 1 - q[0] / total,
    meanInSystem,
    meanInService,
    throughputPerMs,
    responseMs,
    waitMs: Math.max(responseMs - serviceMs, 0),
    serviceMs,
  };
}
