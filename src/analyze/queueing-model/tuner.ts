/**
 * Online tuner of the performance-model parameters (alpha, beta, gamma) of one variant: an Extended
 * Kalman Filter whose observations are the TTFT and ITL a busy pod reports. Pure code; the state is
 * plain data so that the controller can persist it. See docs/design/model-based-optimizer.md.
 *
 * Units: times in ms, request rates in requests per second.
 */
import { QueueAnalyzer } from "./analyzer.js";
import { add, column, diag, identity, inverse2, multiply, transpose, type Matrix } from "./matrix.js";
import {
  decodeTimeMs,
  iterationTimeMs,
  prefillTimeMs,
  type RequestSize,
  type ServiceParams,
} from "./performance.js";

/** What one busy pod reported over the metrics window. */
export interface TunerObservation {
  arrivalRatePerSec: number;
  avgInputTokens: number;
  avgOutputTokens: number;
  /** vLLM `--max-num-seqs` of the pod. */
  maxBatchSize: number;
  /** Average time to first token, ms. */
  ttftMs: number;
  /** Average inter-token latency, ms. */
  itlMs: number;
}

/** Learned parameters of a variant with their uncertainty; JSON-serialisable. */
export interface TunerState {
  params: ServiceParams;
  /** 3×3 covariance of (alpha, beta, gamma), rows. */
  covariance: number[][];
  /** Bounds the filter keeps the parameters in. */
  min: ServiceParams;
  max: ServiceParams;
  /** Normalised innovation squared of the last accepted step. */
  nis?: number;
}

export interface TunerConfig {
  /** Process noise: relative standard deviation of each parameter per step. */
  percentChange: number;
  /**
   * Relative standard deviation of a fresh state (initial covariance). A fresh state is a crude guess,
   * so the default is wide (100 %): a tight one would make the innovation test reject every correction.
   */
  initialSpread: number;
  /** Relative error of an observation at the confidence of `tPercentile`. */
  errorLevel: number;
  tPercentile: number;
  /** Divides the observation noise. */
  gammaFactor: number;
  /** Steps with a normalised innovation squared at or above this are rejected. */
  maxNis: number;
  /** A fresh state is bounded to [lowerBound·x0, upperBound·x0]. */
  lowerBound: number;
  upperBound: number;
  /** Initial guess: alpha = baseFactor · ITL. */
  baseFactor: number;
  /**
   * How many requests fewer than the pod's mean batch a request shares its iterations with: 0 when
   * requests reach the pod at random (Poisson), towards 1 the more evenly a load balancer spreads them.
   */
  batchOffset: number;
}

export const DEFAULT_TUNER_CONFIG: TunerConfig = {
  percentChange: 0.01,
  initialSpread: 1,
  errorLevel: 0.1,
  tPercentile: 1.96,
  gammaFactor: 1,
  // 97.5 % point of the chi-square distribution with 2 degrees of freedom.
  maxNis: 7.378,
  lowerBound: 0.01,
  upperBound: 100,
  baseFactor: 0.9,
  batchOffset: 0.5,
};

/** Parameters used when no guess can be made from the observations. */
export const DEFAULT_PARAMS: ServiceParams = { alpha: 5, beta: 0.05, gamma: 0.00005 };
/** Observations assumed for the noise when the pod's are unusable. */
const DEFAULT_OBSERVATIONS: [number, number] = [50, 5];
/** Relative step of the numerical derivative. */
const JACOBIAN_STEP = 0.01;
/** Most linearisations of one update (iterated filter step). */
const UPDATE_ITERATIONS = 10;
/** The iterated update stops when no parameter moves by more than this fraction. */
const UPDATE_TOLERANCE = 1e-4;

type Vec3 = [number, number, number];
const toVec = (p: ServiceParams): Vec3 => [p.alpha, p.beta, p.gamma];
const toParams = (v: readonly number[]): ServiceParams => ({ alpha: v[0], beta: v[1], gamma: v[2] });

/** True when every field is a finite number > 0. */
export function isValidObservation(o: TunerObservation): boolean {
  return [o.arrivalRatePerSec, o.avgInputTokens, o.avgOutputTokens, o.maxBatchSize, o.ttftMs, o.itlMs].every(
    (v) => Number.isFinite(v) && v > 0,
  );
}

/**
 * Closed-form guess from one observation, assuming light load (one iteration ≈ alpha):
 * alpha = baseFactor·ITL; beta + gamma = (TTFT - alpha) / in; gamma from the rest of the ITL.
 * Undefined when any parameter would not be positive.
 */
export function guessParams(
  o: TunerObservation,
  config: TunerConfig = DEFAULT_TUNER_CONFIG,
): ServiceParams | undefined {
  const alpha = config.baseFactor * o.itlMs;
  const perToken = (o.ttftMs - alpha) / o.avgInputTokens;
  const memTokens = o.avgInputTokens + (o.avgOutputTokens + 1) / 2 - 1;
  if (!(perToken >= 0) || !(memTokens > 0)) return undefined;
  const gamma = (o.itlMs - alpha - perToken) / memTokens;
  const beta = perToken - gamma;
  if (!(alpha > 0 && beta > 0 && gamma > 0)) return undefined;
  return { alpha, beta, gamma };
}

/**
 * What the model predicts a pod reports: [TTFT, ITL] in ms. Both follow the iteration law at the batch a
 * request shares, `m`: ITL is one decode time, TTFT the queue wait, the rest of the iteration running when
 * the request arrives (a request joins at the next iteration) and its prefill time. `m` comes from
 * Little's law (requests in service = rate × time in service, the time in service being one prefill and
 * out - 1 decode steps at `m`) less `config.batchOffset` (see {@link sharedBatch}); the queue with the
 * pod's batch size and 10 requests per batch slot gives the wait and the chance that the pod is busy.
 * Undefined when the model has no solution for these parameters and load.
 */
export function predictObservation(
  p: ServiceParams,
  o: TunerObservation,
  config: TunerConfig = DEFAULT_TUNER_CONFIG,
): [number, number] | undefined {
  try {
    const request = { inputTokens: o.avgInputTokens, outputTokens: o.avgOutputTokens };
    const a = new QueueAnalyzer({
      maxBatchSize: o.maxBatchSize,
      maxQueueSize: 10 * o.maxBatchSize,
      params: p,
      request,
    });
    const m = a.analyze(o.arrivalRatePerSec);
    const lambdaPerMs = o.arrivalRatePerSec / 1000;
    const n = sharedBatch(p, request, lambdaPerMs, o.maxBatchSize, config.batchOffset);
    const out: [number, number] = [
      m.waitMs +
        m.busyProbability * iterationResidualMs(p, request, n, lambdaPerMs) +
        prefillTimeMs(p, request, n),
      decodeTimeMs(p, request, n),
    ];
    return out.every(Number.isFinite) ? out : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The batch a request shares on average, `m`, as the iteration law counts it (`decode(m)` holds `m`
 * shares of the others' work besides the request's own). With `n` requests in service on average,
 * Little's law gives n = λ·S(m), where S(m) = prefill(m) + (out - 1)·decode(m) is a request's time in
 * service; a request shares its iterations with m = n - offset: with Poisson arrivals the others it
 * meets are as many as the pod holds on average (offset 0), with evenly spread arrivals about one
 * fewer. S is linear in m, S(m) = s0 + s1·m, so m = (λ·s0 - offset) / (1 - λ·s1), between 0 and the
 * batch limit (the limit when λ·s1 >= 1).
 */
export function sharedBatch(
  p: ServiceParams,
  r: RequestSize,
  lambdaPerMs: number,
  maxBatchSize: number,
  offset: number,
): number {
  const service = (m: number) => prefillTimeMs(p, r, m) + (r.outputTokens - 1) * decodeTimeMs(p, r, m);
  const s0 = service(0);
  const s1 = service(1) - s0;
  if (!(lambdaPerMs * s1 < 1)) return maxBatchSize;
  return Math.min(Math.max((lambdaPerMs * s0 - offset) / (1 - lambdaPerMs * s1), 0), maxBatchSize);
}

/**
 * Mean rest of the iteration a request finds running when it arrives at a busy replica, ms. An iteration
 * lasts T(n) on average, plus the prefill of each request admitted with it (as many as arrive during an
 * iteration, λ·T(n) on average). A random arrival falls into long iterations more often: the mean rest is
 * E[T²] / (2·E[T]) = (T(n) + Var/T(n)) / 2, with Var = λ·T(n)·P² for prefills of P ms each.
 */
export function iterationResidualMs(
  p: ServiceParams,
  r: RequestSize,
  n: number,
  lambdaPerMs: number,
): number {
  const t = iterationTimeMs(p, r, n);
  const prefill = (p.beta + p.gamma) * r.inputTokens;
  return (t + lambdaPerMs * prefill * prefill) / 2;
}

/** Observation noise: each observation's standard deviation is errorLevel/tPercentile of its value. */
export function observationNoise(
  o: TunerObservation | undefined,
  config: TunerConfig = DEFAULT_TUNER_CONFIG,
): Matrix {
  const f = (config.errorLevel / config.tPercentile) ** 2 / config.gammaFactor;
  const e = o && o.ttftMs > 0 && o.itlMs > 0 ? [o.ttftMs, o.itlMs] : DEFAULT_OBSERVATIONS;
  return diag(e.map((v) => f * v * v));
}

/** Diagonal covariance with relative standard deviation `spread` around `p`. */
export function relativeCovariance(p: ServiceParams, spread: number): number[][] {
  return diag(toVec(p).map((v) => (spread * v) ** 2));
}

/**
 * A fresh state: guessed from the first valid observation (bounds around the guess), else the
 * defaults (bounds around the defaults).
 */
export function initialTunerState(
  first: TunerObservation | undefined,
  config: TunerConfig = DEFAULT_TUNER_CONFIG,
): TunerState {
  const params = (first && isValidObservation(first) && guessParams(first, config)) || DEFAULT_PARAMS;
  return stateAround(params, config);
}

/** A state at `params` with the config's initial spread and bounds around `params`. */
export function stateAround(params: ServiceParams, config: TunerConfig = DEFAULT_TUNER_CONFIG): TunerState {
  const scale = (k: number): ServiceParams => toParams(toVec(params).map((v) => v * k));
  return {
    params: { ...params },
    covariance: relativeCovariance(params, config.initialSpread),
    min: scale(config.lowerBound),
    max: scale(config.upperBound),
  };
}

function clamp(v: readonly number[], s: TunerState): Vec3 {
  const lo = toVec(s.min);
  const hi = toVec(s.max);
  return [0, 1, 2].map((i) => Math.min(hi[i], Math.max(lo[i], v[i]))) as Vec3;
}

/** Central-difference Jacobian of `h` at `x` (rows = outputs). Undefined when `h` fails anywhere. */
export function numericalJacobian(
  h: (x: readonly number[]) => readonly number[] | undefined,
  x: readonly number[],
): Matrix | undefined {
  const cols: number[][] = [];
  for (let j = 0; j < x.length; j++) {
    const eps = x[j] === 0 ? JACOBIAN_STEP : JACOBIAN_STEP * Math.abs(x[j]);
    const up = [...x];
    const down = [...x];
    up[j] += eps;
    down[j] -= eps;
    const hu = h(up);
    const hd = h(down);
    if (!hu || !hd) return undefined;
    cols.push(hu.map((v, i) => (v - hd[i]) / (2 * eps)));
  }
  return transpose(cols);
}

export interface TunerStep {
  /** The state after the step: the updated one when accepted, the unchanged input when rejected. */
  state: TunerState;
  accepted: boolean;
  /** Normalised innovation squared of the step (undefined when the model could not predict). */
  nis?: number;
  /** Why the step was rejected. */
  reason?: string;
}

/**
 * One filter step on one observation. The parameters are assumed constant between steps (identity
 * transition plus process noise). The update is iterated: the model is linearised again at the new
 * estimate until it settles (at most {@link UPDATE_ITERATIONS} times), since one linearisation far from
 * the answer overshoots along the direction the observation barely sees. A step is rejected, leaving the
 * state exactly as it was, when the model cannot predict the observation, a parameter would not be
 * positive, or the innovation is implausible (NIS >= maxNis, at the predicted state).
 */
export function tunerStep(
  state: TunerState,
  obs: TunerObservation,
  config: TunerConfig = DEFAULT_TUNER_CONFIG,
): TunerStep {
  const reject = (reason: string, nis?: number): TunerStep => ({ state, accepted: false, nis, reason });
  if (!isValidObservation(obs)) return reject("observation has a missing or non-positive field");
  const h = (x: readonly number[]) => predictObservation(toParams(x), obs, config);
  // Predict: parameters unchanged, uncertainty grows by the process noise around the current values.
  const x = clamp(toVec(state.params), state);
  const P = add(state.covariance, relativeCovariance(toParams(x), config.percentChange));
  const R = observationNoise(obs, config);
  const z = [obs.ttftMs, obs.itlMs];
  let hx = h(x);
  let H = numericalJacobian(h, x);
  if (!hx || !H) return reject("the model cannot predict this observation with the current parameters");
  let nis: number | undefined;
  let K: Matrix = [];
  let at: Vec3 = x;
  let next: Vec3 = x;
  for (let i = 0; i < UPDATE_ITERATIONS; i++) {
    const S = add(multiply(multiply(H, P), transpose(H)), R);
    const Sinv = inverse2(S);
    if (!Sinv) return reject("singular innovation covariance");
    if (nis === undefined) {
      const y = column([z[0] - hx[0], z[1] - hx[1]]);
      nis = multiply(multiply(transpose(y), Sinv), y)[0][0];
      if (!(nis < config.maxNis)) {
        return reject(`innovation too large (NIS ${nis.toFixed(3)} >= ${config.maxNis})`, nis);
      }
    }
    K = multiply(multiply(P, transpose(H)), Sinv);
    // Innovation of the model linearised at `at`, taken back to the predicted state x.
    const back = multiply(H, column(x.map((v, j) => v - at[j])));
    const y = column([z[0] - hx[0] - back[0][0], z[1] - hx[1] - back[1][0]]);
    next = clamp(
      add(column(x), multiply(K, y)).map((r) => r[0]),
      state,
    );
    if (!(next[0] > 0 && next[1] > 0 && next[2] > 0)) break;
    if (next.every((v, j) => Math.abs(v - at[j]) <= UPDATE_TOLERANCE * at[j])) break;
    const hn = h(next);
    const Hn = numericalJacobian(h, next);
    if (!hn || !Hn) break;
    [at, hx, H] = [next, hn, Hn];
  }
  if (!(next[0] > 0 && next[1] > 0 && next[2] > 0)) return reject("a parameter would not be positive", nis);
  const covariance = multiply(add(identity(3), multiply(K, H), -1), P);
  return {
    state: { params: toParams(next), covariance, min: { ...state.min }, max: { ...state.max }, nis },
    accepted: true,
    nis,
  };
}

export interface TunerCycle {
  state: TunerState;
  steps: TunerStep[];
}

/**
 * One cycle of a variant: a step per busy pod (valid observation), in order, each from the state the
 * previous accepted step left. Without a stored state, the first valid observation seeds one.
 */
export function tuneCycle(
  stored: TunerState | undefined,
  observations: readonly TunerObservation[],
  config: TunerConfig = DEFAULT_TUNER_CONFIG,
): TunerCycle {
  const busy = observations.filter(isValidObservation);
  let state = stored ?? initialTunerState(busy[0], config);
  const steps: TunerStep[] = [];
  for (const o of busy) {
    const step = tunerStep(state, o, config);
    steps.push(step);
    state = step.state;
  }
  return { state, steps };
}
