/**
 * The one adapter between the simulator and the decision engine: it turns the simulated cluster into
 * the engine's plain-data input, runs the same pipeline as the controller's engine loop, and keeps what
 * the controller keeps between cycles (transition bookkeeping, the last published target per variant).
 */
import { CapacityStore, parseVllmContainer, type VllmParams } from "../analyze/token-capacity/index.js";
import { applySaturationDefaults } from "../config/saturation.js";
import { decideCycle, type ModelInput } from "../engine/pipeline.js";
import {
  DEFAULT_SATURATION_CONFIG,
  DEFAULT_TRANSITION_TIMEOUT_MS,
  emptyTransitionState,
  type BoundSource,
  type SaturationConfig,
  type TransitionState,
  type VariantState,
  QUEUEING_MODEL,
} from "../engine/types.js";
import { afterWake } from "../enforce/scale-from-zero.js";
import { vllmServeCommand } from "../playground/runner/manifests.js";
import type { SaturationSpec } from "../playground/runner/scenario.js";
import { LearnedParameters } from "../analyze/queueing-model/learning.js";
import type { TunerObservation } from "../analyze/queueing-model/tuner.js";
import { DEFAULT_SLO_MULTIPLIER } from "../config/slo.js";
import { PodWindows } from "./pod-window.js";
import type { SimModel, SimVariant, World } from "./world.js";

export class WvaDecider {
  private state: TransitionState = emptyTransitionState();
  /** Last published target per variant (`namespace/name`). */
  private readonly published = new Map<string, number>();
  private readonly config: SaturationConfig;
  /** When each model (`namespace/modelID`) was last woken from zero. */
  private readonly wokenAt = new Map<string, number>();
  /** What the token-capacity analyzer learned, kept across cycles as the controller keeps it. */
  private readonly capacityStore = new CapacityStore();
  /** queueing-model: per-pod windows and the learned parameters per variant key. */
  private readonly model?: { windows: PodWindows; learned: LearnedParameters };

  /**
   * `boundSource`: who enforces each variant's `maxReplicas` (the VA annotation with direct actuation,
   * the HPA otherwise); the engine sees the bound and gives the step to the next cheapest variant.
   * `scaleToZero`: follow the scenario's per-model scale-to-zero (false: every model keeps one replica).
   */
  constructor(
    saturation: SaturationSpec,
    private readonly boundSource: BoundSource = "annotation",
    private readonly scaleToZero = true,
  ) {
    this.config = applySaturationDefaults({
      ...DEFAULT_SATURATION_CONFIG,
      ...saturation,
      enableLimiter: false,
    });
    if (this.config.analyzerName === QUEUEING_MODEL)
      this.model = { windows: new PodWindows(), learned: new LearnedParameters() };
  }

  /** Records a wake-up from zero: the variant's published target is 1, as the controller publishes it. */
  woke(m: SimModel, variant: string, now: number): void {
    this.published.set(key(m.spec.namespace, variant), 1);
    this.wokenAt.set(key(m.spec.namespace, m.spec.modelID), now);
  }

  /**
   * One engine cycle at `now`: returns the target per variant key. A model without metrics holds its
   * previous target (else its current replicas), as the controller does: missing data never scales down.
   */
  decide(world: World, now: number): Map<string, number> {
    if (this.model) this.learn(world, now);
    const targets = new Map<string, number>();
    const inputs: ModelInput[] = [];
    for (const m of world.models) {
      const input = this.modelInput(world, m, now);
      if (input.replicas.length > 0) inputs.push(input);
      else for (const v of input.variants) targets.set(key(v.namespace, v.name), v.desired || v.current);
    }
    const result = decideCycle(
      { models: inputs, enableLimiter: false },
      {
        now,
        transitionTimeoutMs: DEFAULT_TRANSITION_TIMEOUT_MS,
        state: this.state,
        capacityStore: this.capacityStore,
      },
    );
    this.state = result.state;
    for (const m of result.models)
      for (const d of m.decisions) targets.set(key(d.namespace, d.variantName), d.targetReplicas);
    for (const [k, t] of targets) this.published.set(k, t);
    return targets;
  }

  /** Records the pods' windows, then one tuner step per busy pod of every variant. */
  private learn(world: World, now: number): void {
    const { windows, learned } = this.model!;
    windows.record(
      world.variants.flatMap((v) => v.pods.filter((p) => p.ready)),
      now,
    );
    const observations = new Map<string, TunerObservation[]>();
    for (const v of world.variants) {
      const obs: TunerObservation[] = [];
      for (const p of v.pods) {
        const w = p.ready ? windows.window(p) : undefined;
        if (w)
          obs.push({
            arrivalRatePerSec: w.arrivalRatePerSec!,
            avgInputTokens: w.avgInputTokens!,
            avgOutputTokens: w.avgOutputTokens!,
            maxBatchSize: v.spec.emulator.maxBatch,
            ttftMs: w.ttftMs!,
            itlMs: w.itlMs!,
          });
      }
      observations.set(key(v.model.spec.namespace, v.spec.name), obs);
    }
    learned.learn(observations);
  }

  private variantState(world: World, m: SimModel, v: SimVariant): VariantState {
    const ns = m.spec.namespace;
    return {
      name: v.spec.name,
      namespace: ns,
      modelID: m.spec.modelID,
      accelerator: v.spec.accelerator,
      cost: v.spec.cost,
      gpusPerReplica: v.spec.gpusPerReplica,
      current: v.pods.length,
      ready: world.readyCount(v),
      desired: this.published.get(key(ns, v.spec.name)) ?? 0,
      bounds: [{ source: this.boundSource, maxReplicas: v.spec.maxReplicas }],
    };
  }

  /** The model's scale-to-zero input, as the controller's engine loop builds it. */
  private scaleToZeroInput(world: World, m: SimModel, now: number): ModelInput["scaleToZero"] {
    const stz = this.scaleToZero ? m.spec.scaleToZero : undefined;
    if (!stz) return undefined;
    return afterWake(
      // like the controller's request count: unknown until one whole window has been watched
      now < stz.retentionMs
        ? { enabled: true, requestCount: null, retentionMs: stz.retentionMs, error: "window not watched yet" }
        : {
            enabled: true,
            requestCount: world.completionsSince(m, now - stz.retentionMs),
            retentionMs: stz.retentionMs,
          },
      this.wokenAt.get(key(m.spec.namespace, m.spec.modelID)),
      now,
    );
  }

  private modelInput(world: World, m: SimModel, now: number): ModelInput {
    const ns = m.spec.namespace;
    const scaleToZero = this.scaleToZeroInput(world, m, now);
    const model = this.model;
    if (model) {
      return {
        modelID: m.spec.modelID,
        namespace: ns,
        variants: m.variants.map((v) => ({
          ...this.variantState(world, m, v),
          maxBatchSize: v.spec.emulator.maxBatch,
          parameters: model.learned.params(key(ns, v.spec.name)),
        })),
        replicas: m.variants.flatMap((v) =>
          world.peakMetrics(v).flatMap((p) => {
            const pod = v.pods.find((x) => x.name === p.pod)!;
            const w = model.windows.window(pod);
            return w
              ? [{ pod: p.pod, variant: v.spec.name, kvCacheUsage: p.kv, queueLength: p.queue, ...w }]
              : [];
          }),
        ),
        config: this.config,
        slo: { targets: { ...m.spec.slo }, sloMultiplier: DEFAULT_SLO_MULTIPLIER },
        ...(scaleToZero && { scaleToZero }),
      };
    }
    return {
      modelID: m.spec.modelID,
      namespace: ns,
      variants: m.variants.map((v) => this.variantState(world, m, v)),
      replicas: m.variants.flatMap((v) =>
        world.peakMetrics(v).map(({ pod, kv, queue, ...tokens }) => ({
          pod,
          variant: v.spec.name,
          kvCacheUsage: kv,
          queueLength: queue,
          ...tokens,
        })),
      ),
      config: this.config,
      vllmParams: Object.fromEntries(
        m.variants.map((v): [string, VllmParams] => [
          v.spec.name,
          parseVllmContainer({ command: vllmServeCommand(m.spec.modelID, v.spec) }),
        ]),
      ),
      ...(scaleToZero && { scaleToZero }),
    };
  }
}

export function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
