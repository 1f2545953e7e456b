import { startManager } from "../../controller/manager.js";
import { PLAYGROUND_POOL_GROUP } from "./manifests.js";
import type { ControllerStarter } from "./run.js";

/**
 * The playground's controller: the WVA manager in-process against the emulator's kubeconfig, reading
 * the pods' `/metrics` directly (no Prometheus), with its metrics endpoint on plain HTTP on loopback
 * (where the emulated HPA reads `wva_desired_replicas`, as prometheus-adapter would) and no probe
 * server or leader election.
 */
export const inProcessManager: ControllerStarter = async (o) => {
  const handle = await startManager({
    kubeconfig: o.kubeconfigPath,
    flags: {
      actuator: o.actuation,
      metricsBindAddress: "127.0.0.1:0",
      metricsSecure: false,
      healthProbeBindAddress: "0",
      leaderElect: false,
    },
    env: {
      POD_NAMESPACE: o.systemNamespace,
      GLOBAL_OPT_INTERVAL: `${o.engineIntervalMs}ms`,
      POOL_GROUP: PLAYGROUND_POOL_GROUP,
      DIRECT_SCALE_DOWN_STABILIZATION_WINDOW: `${o.scaleDownStabilizationMs}ms`,
    },
    metricsSource: "pods",
    logger: o.logger,
    onCycle: (r) => o.onCycle(r.variants),
  });
  return { metricsUrl: handle.metricsUrl, stop: () => handle.stop() };
};
