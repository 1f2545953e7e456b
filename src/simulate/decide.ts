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
} from "../engine/types.js";
import { vllmServeCommand } from "../playground/runner/manifests.js";
import type { SaturationSpec } from "../playground/runner/scenario.js";
import type { SimModel, World } from "./world.js";

export class WvaDecider {
  private state: TransitionState = emptyTransitionState();
  /** Last published target per variant (`namespace/name`). */
  private readonly published = new Map<string, number>();
  private readonly config: SaturationConfig;
  /** What the token-capacity analyzer learned, kept across cycles as the controller keeps it. */
  private readonly capacityStore = new CapacityStore();

  /**
   * `boundSource`: who enforces each variant's `maxReplicas` (the VA annotation with direct actuation,
   * the HPA otherwise); the engine sees the bound and gives the step to the next cheapest variant.
   */
  constructor(
    saturation: SaturationSpec,
    private readonly boundSource: BoundSource = "annotation",
  ) {
    this.config = applySaturationDefaults({
      ...DEFAULT_SATURATION_CONFIG,
      ...saturation,
      enableLimiter: false,
    });
  }

  /**
   * One engine cycle at `now`: returns the target per variant key. A model without metrics holds its
   * previous target (else its current replicas), as the controller does: missing data never scales down.
   */
  decide(world: World, now: number): Map<string, number> {
    const targets = new Map<string, number>();
    const inputs: ModelInput[] = [];
    for (const m of world.models) {
      const input = this.modelInput(world, m);
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

  private modelInput(world: World, m: SimModel): ModelInput {
    const ns = m.spec.namespace;
    return {
      modelID: m.spec.modelID,
      namespace: ns,
      variants: m.variants.map((v) => ({
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
      })),
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
    };
  }
}

export function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
