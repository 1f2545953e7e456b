/**
 * The queueing-model's learned parameters in the controller: one tuner step per busy pod per cycle,
 * the states persisted in a ConfigMap of the controller's namespace (written only when they changed,
 * read back when the controller starts, so learning survives a restart) and the parameters exported
 * as `wva_model_parameter` gauges. A ConfigMap that cannot be read as parameters is reported with a
 * Warning event and ignored: learning starts afresh and the next write replaces it.
 */
import type { ActuationMetrics } from "../actuate/metrics.js";
import { LearnedParameters, type LearnedStates } from "../analyze/queueing-model/learning.js";
import type { TunerObservation, TunerState } from "../analyze/queueing-model/tuner.js";
import type { ReplicaMetric, ServiceParams } from "../engine/types.js";
import type { Logger } from "../util/logger.js";
import { errText } from "./kube/informer.js";
import { isNotFound, type KubeClient } from "./kube/client.js";
import type { EventRecorder } from "./kube/events.js";
import type { ConfigMap } from "./kube/objects.js";
import type { Deployment } from "./types.js";
import { parseVllmContainer } from "../analyze/token-capacity/vllm-args.js";

/** Name of the ConfigMap holding the learned parameters (in the controller's namespace). */
export const MODEL_PARAMETERS_CONFIG_MAP = "wva-model-parameters";
/** Event reason of a parameter ConfigMap that cannot be read. */
export const REASON_INVALID_MODEL_PARAMETERS = "InvalidModelParameters";

/** ConfigMap key of a variant: `<namespace>.<name>` (a namespace has no dots). */
export function parameterKey(namespace: string, name: string): string {
  return `${namespace}.${name}`;
}

const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function checkParams(v: unknown, field: string, positive: boolean): void {
  const p = v as Record<string, unknown> | null;
  if (typeof p !== "object" || p === null) throw new Error(`${field}: must be an object`);
  for (const k of ["alpha", "beta", "gamma"])
    if (!isFiniteNumber(p[k]) || (positive && !(p[k] > 0)))
      throw new Error(`${field}.${k}: must be a finite number${positive ? " > 0" : ""}`);
}

/** Reads one entry of the ConfigMap as a tuner state; throws naming the field and the rule. */
export function parseTunerState(key: string, text: string): TunerState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${key}: not JSON`);
  }
  const s = v as Record<string, unknown> | null;
  if (typeof s !== "object" || s === null) throw new Error(`${key}: must be an object`);
  checkParams(s.params, `${key}.params`, true);
  checkParams(s.min, `${key}.min`, false);
  checkParams(s.max, `${key}.max`, false);
  const c = s.covariance;
  if (
    !Array.isArray(c) ||
    c.length !== 3 ||
    !c.every((r) => Array.isArray(r) && r.length === 3 && r.every(isFiniteNumber))
  )
    throw new Error(`${key}.covariance: must be a 3×3 matrix of finite numbers`);
  return { params: s.params, covariance: c, min: s.min, max: s.max } as TunerState;
}

/** `--max-num-seqs` of the Deployment's vLLM container (the one whose command mentions vllm, else the first). */
export function maxBatchSizeOf(d: Deployment): number {
  const containers = d.spec?.template?.spec?.containers ?? [];
  const vllm =
    containers.find((c) => [...(c.command ?? []), ...(c.args ?? [])].some((a) => a.includes("vllm"))) ??
    containers[0];
  return parseVllmContainer(vllm).maxNumSeqs;
}

/** A variant of a queueing-model group as the tuner needs it. */
export interface TunedVariant {
  namespace: string;
  name: string;
  maxBatchSize: number;
}

export interface ModelParametersOptions {
  client: KubeClient;
  /** The controller's namespace. */
  namespace: string;
  metrics: ActuationMetrics;
  events?: EventRecorder;
  log: Logger;
}

export class ModelParameters {
  private learned = new LearnedParameters();
  /** The data last read or written (JSON of the ConfigMap's data); a write happens only when it differs. */
  private stored?: string;
  private exists = false;
  private loading?: Promise<void>;

  constructor(private readonly opts: ModelParametersOptions) {}

  /** Reads the persisted states once (on the first cycle that needs them). */
  ensureLoaded(): Promise<void> {
    return (this.loading ??= this.load());
  }

  private get path(): string {
    const ns = encodeURIComponent(this.opts.namespace);
    return `/api/v1/namespaces/${ns}/configmaps`;
  }

  /** Reads the persisted states; never throws (a bad ConfigMap is reported and ignored). */
  async load(): Promise<void> {
    let cm: ConfigMap;
    try {
      cm = await this.opts.client.get<ConfigMap>(`${this.path}/${MODEL_PARAMETERS_CONFIG_MAP}`);
    } catch (err) {
      if (!isNotFound(err))
        this.opts.log.warn({ err: errText(err) }, "reading the learned parameters failed");
      this.exists = false;
      return;
    }
    this.exists = true;
    const data = cm.data ?? {};
    const states: LearnedStates = {};
    try {
      for (const [k, text] of Object.entries(data)) {
        const dot = k.indexOf(".");
        if (dot <= 0 || dot === k.length - 1) throw new Error(`${k}: key must be <namespace>.<variant>`);
        states[`${k.slice(0, dot)}/${k.slice(dot + 1)}`] = parseTunerState(k, text);
      }
    } catch (err) {
      const msg =
        `ConfigMap ${this.opts.namespace}/${MODEL_PARAMETERS_CONFIG_MAP} ignored, parameters are learned afresh: ` +
        (err as Error).message;
      this.opts.log.error({ err: (err as Error).message }, "invalid learned parameters ignored");
      void this.opts.events?.record(cm, "Warning", REASON_INVALID_MODEL_PARAMETERS, msg);
      this.learned = new LearnedParameters();
      this.stored = undefined;
      return;
    }
    this.learned = new LearnedParameters(states);
    this.stored = JSON.stringify(this.data());
    this.opts.log.info({ variants: Object.keys(states).length }, "learned model parameters loaded");
  }

  /** The learned parameters of a variant. */
  params(namespace: string, name: string): ServiceParams | undefined {
    return this.learned.params(`${namespace}/${name}`);
  }

  /**
   * One tuner cycle: a step per busy pod (all observation fields reported) of each variant, then the
   * gauges. Returns the variants whose steps were rejected, with the reason.
   */
  learn(variants: readonly TunedVariant[], replicas: ReadonlyMap<string, readonly ReplicaMetric[]>) {
    const observations = new Map<string, TunerObservation[]>();
    for (const v of variants) {
      const key = `${v.namespace}/${v.name}`;
      const obs: TunerObservation[] = [];
      for (const r of replicas.get(key) ?? []) {
        if (r.arrivalRatePerSec === undefined || r.avgInputTokens === undefined) continue;
        obs.push({
          arrivalRatePerSec: r.arrivalRatePerSec,
          avgInputTokens: r.avgInputTokens,
          avgOutputTokens: r.avgOutputTokens ?? 0,
          maxBatchSize: v.maxBatchSize,
          ttftMs: r.ttftMs ?? 0,
          itlMs: r.itlMs ?? 0,
        });
      }
      observations.set(key, obs);
    }
    const result = this.learned.learn(observations);
    for (const v of variants) {
      const p = this.params(v.namespace, v.name);
      if (p) this.opts.metrics.emitModelParameters(v.namespace, v.name, p);
    }
    return result;
  }

  private data(): Record<string, string> {
    const out: Record<string, string> = {};
    const states = this.learned.snapshot();
    for (const k of Object.keys(states).sort()) {
      const slash = k.indexOf("/");
      const { params, covariance, min, max } = states[k];
      out[parameterKey(k.slice(0, slash), k.slice(slash + 1))] = JSON.stringify({
        params,
        covariance,
        min,
        max,
      });
    }
    return out;
  }

  /** Writes the states when they changed since the last read or write. */
  async persist(): Promise<void> {
    const data = this.data();
    const text = JSON.stringify(data);
    if (text === this.stored) return;
    const body = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: MODEL_PARAMETERS_CONFIG_MAP,
        namespace: this.opts.namespace,
        labels: { "app.kubernetes.io/managed-by": "workload-variant-autoscaler" },
      },
      data,
    };
    try {
      if (this.exists) await this.opts.client.replace(`${this.path}/${MODEL_PARAMETERS_CONFIG_MAP}`, body);
      else await this.opts.client.create(this.path, body);
      this.exists = true;
      this.stored = text;
    } catch (err) {
      // a lost race or a deleted ConfigMap: read what is there next time
      if (isNotFound(err)) this.exists = false;
      else this.exists = true;
      this.opts.log.warn({ err: errText(err) }, "writing the learned parameters failed; retrying next cycle");
    }
  }
}
