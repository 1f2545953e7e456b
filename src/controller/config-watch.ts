import {
  DEFAULT_SATURATION_CONFIG,
  hasEntries,
  parseSaturationConfigMap,
  resolveSaturationConfig,
  type SaturationConfigMap,
} from "../config/saturation.js";
import {
  parseScaleToZeroConfigMap,
  resolveScaleToZero,
  SCALE_TO_ZERO_CONFIG_MAP,
  type ScaleToZeroConfigMap,
} from "../config/scale-to-zero.js";
import { applyRuntimeUpdate, immutableChangeMessage, type MainConfig } from "../config/main.js";
import { parseSloConfigMap, SLO_CONFIG_MAP, sloSettingsFor, type SloConfig } from "../config/slo.js";
import type { ModelSlo, SaturationConfig } from "../engine/types.js";
import type { Logger } from "../util/logger.js";
import type { EventRecorder } from "./kube/events.js";
import type { ConfigMap } from "./kube/objects.js";
import { namespaceConfigAllowed, type NamespaceLookup } from "./predicates.js";

export interface ConfigWatchOptions {
  systemNamespace: string;
  watchNamespace: string;
  mainName: string;
  saturationName: string;
  scaleToZeroName?: string;
  /** Env value of `WVA_SCALE_TO_ZERO`. */
  scaleToZeroEnv?: string;
  namespaces?: NamespaceLookup;
  /** True when the namespace has VAs of this controller. */
  tracked: (namespace: string) => boolean;
  events?: Pick<EventRecorder, "record">;
  log: Logger;
  /** Called after a main ConfigMap update was applied. */
  onMainConfig?: (config: MainConfig) => void;
}

/** Event reason of a rejected saturation ConfigMap. */
export const REASON_INVALID_SATURATION_CONFIG = "InvalidSaturationConfig";
export const REASON_IMMUTABLE_CONFIG_CHANGE_REJECTED = "ImmutableConfigChangeRejected";
/** Event reason of SLO ConfigMap entries that were skipped. */
export const REASON_INVALID_SLO_CONFIG = "InvalidSloConfig";

/**
 * Hot-reloaded configuration (docs/design/configuration-precedence.md). The global ConfigMaps live in
 * the controller namespace; saturation and scale-to-zero ConfigMaps may also be namespace-local
 * (including those that existed before the controller started). A saturation ConfigMap with any invalid entry is
 * rejected as a whole: the last good configuration stays and a Warning event names the problems.
 * Without any saturation ConfigMap the shipped defaults apply.
 */
export class ConfigWatch {
  private globalSaturation?: SaturationConfigMap;
  private readonly localSaturation = new Map<string, SaturationConfigMap>();
  private globalScaleToZero: ScaleToZeroConfigMap = parseScaleToZeroConfigMap(undefined);
  private readonly localScaleToZero = new Map<string, ScaleToZeroConfigMap>();
  private slo: SloConfig = parseSloConfigMap(undefined);
  /** Data of the main ConfigMap the running config was last updated from. */
  private mainData?: Record<string, string>;

  constructor(
    private main: MainConfig,
    private readonly opts: ConfigWatchOptions,
    /** Main ConfigMap data the start-up config was loaded from (undefined = none existed). */
    startupMainData?: Record<string, string>,
  ) {
    this.mainData = startupMainData;
  }

  get mainConfig(): MainConfig {
    return this.main;
  }

  private get stzName(): string {
    return this.opts.scaleToZeroName ?? SCALE_TO_ZERO_CONFIG_MAP;
  }

  /** Names of the ConfigMaps this controller reads. */
  names(): string[] {
    return [this.opts.mainName, this.opts.saturationName, this.stzName, SLO_CONFIG_MAP];
  }

  private localAllowed(namespace: string): boolean {
    return namespaceConfigAllowed(namespace, {
      watchNamespace: this.opts.watchNamespace,
      lookup: this.opts.namespaces,
      tracked: this.opts.tracked,
    });
  }

  saturationFor(modelID: string, namespace: string): SaturationConfig | undefined {
    const local = this.localSaturation.get(namespace);
    if (local && hasEntries(local) && this.localAllowed(namespace)) {
      return resolveSaturationConfig(local, modelID, namespace);
    }
    if (!this.globalSaturation) return { ...DEFAULT_SATURATION_CONFIG };
    return resolveSaturationConfig(this.globalSaturation, modelID, namespace);
  }

  limiterEnabled(): boolean {
    return (this.globalSaturation?.default ?? DEFAULT_SATURATION_CONFIG).enableLimiter;
  }

  scaleToZeroFor(modelID: string, namespace: string): { enabled: boolean; retentionMs: number } {
    const local = this.localScaleToZero.get(namespace);
    const useLocal =
      local !== undefined &&
      (local.default !== undefined || local.byModel.size > 0) &&
      this.localAllowed(namespace);
    return resolveScaleToZero(useLocal ? local : this.globalScaleToZero, modelID, this.opts.scaleToZeroEnv);
  }

  /** queueing-model: a model's SLO settings from the SLO ConfigMap of the controller's namespace. */
  sloFor(modelID: string, namespace: string): ModelSlo {
    const s = sloSettingsFor(this.slo, modelID, namespace);
    return {
      targets: s.targets && { ttftMs: s.targets.ttftMs, itlMs: s.targets.itlMs },
      sloMultiplier: s.sloMultiplier,
    };
  }

  /** Handles an added or updated ConfigMap. */
  onUpsert(cm: ConfigMap): void {
    const name = cm.metadata?.name ?? "";
    const ns = cm.metadata?.namespace ?? "";
    const system = ns === this.opts.systemNamespace;
    if (name === this.opts.mainName && system) this.onMain(cm);
    else if (name === this.opts.saturationName) this.onSaturation(cm, system);
    else if (name === SLO_CONFIG_MAP && system) this.onSlo(cm);
    else if (name === this.stzName) {
      const parsed = parseScaleToZeroConfigMap(cm.data);
      if (system) this.globalScaleToZero = parsed;
      else this.localScaleToZero.set(ns, parsed);
      for (const e of parsed.errors) this.opts.log.warn({ configMap: `${ns}/${name}` }, e.message);
      this.opts.log.info({ configMap: `${ns}/${name}` }, "scale-to-zero config loaded");
    }
  }

  /** Handles a deleted ConfigMap: a namespace-local one stops applying; global ones keep the last config. */
  onDelete(cm: ConfigMap): void {
    const name = cm.metadata?.name ?? "";
    const ns = cm.metadata?.namespace ?? "";
    if (ns === this.opts.systemNamespace) return;
    if (name === this.opts.saturationName) this.localSaturation.delete(ns);
    if (name === this.stzName) this.localScaleToZero.delete(ns);
  }

  private onSaturation(cm: ConfigMap, system: boolean): void {
    const where = `${cm.metadata?.namespace}/${cm.metadata?.name}`;
    const parsed = parseSaturationConfigMap(cm.data);
    if (parsed.errors.length > 0) {
      const msg =
        `Saturation ConfigMap ${where} rejected, the last valid configuration stays in effect: ` +
        parsed.errors.map((e) => e.message).join("; ");
      this.opts.log.error({ configMap: where, errors: parsed.errors }, "invalid saturation config rejected");
      void this.opts.events?.record(cm, "Warning", REASON_INVALID_SATURATION_CONFIG, msg);
      return;
    }
    if (system) this.globalSaturation = parsed;
    else this.localSaturation.set(cm.metadata?.namespace ?? "", parsed);
    this.opts.log.info({ configMap: where }, "saturation config loaded");
  }

  /** Valid entries apply; each skipped entry is named in one Warning event. */
  private onSlo(cm: ConfigMap): void {
    const where = `${cm.metadata?.namespace}/${cm.metadata?.name}`;
    this.slo = parseSloConfigMap(cm.data);
    if (this.slo.errors.length > 0) {
      const msg =
        `SLO ConfigMap ${where}: entries skipped, the others apply: ` +
        this.slo.errors.map((e) => e.message).join("; ");
      this.opts.log.error({ configMap: where, errors: this.slo.errors }, "invalid SLO entries skipped");
      void this.opts.events?.record(cm, "Warning", REASON_INVALID_SLO_CONFIG, msg);
    }
    this.opts.log.info({ configMap: where }, "SLO config loaded");
  }

  private onMain(cm: ConfigMap): void {
    // only keys whose value changed since the data the running config came from are considered, so
    // that values taken from flags or the environment at start-up are not reported as changes
    const data = cm.data ?? {};
    const prev = this.mainData ?? {};
    const changed = Object.fromEntries(Object.entries(data).filter(([k, v]) => prev[k] !== v));
    this.mainData = { ...data };
    if (Object.keys(changed).length === 0) return;
    const update = applyRuntimeUpdate(this.main, changed);
    for (const w of update.warnings) this.opts.log.warn({ configMap: cm.metadata?.name }, w);
    if (update.rejected.length > 0) {
      const msg = immutableChangeMessage(cm.metadata?.name ?? "", update.rejected);
      this.opts.log.error({ changes: update.rejected }, "Attempted to change immutable parameters");
      void this.opts.events?.record(cm, "Warning", REASON_IMMUTABLE_CONFIG_CHANGE_REJECTED, msg);
    }
    this.main = update.config;
    this.opts.onMainConfig?.(update.config);
  }
}
