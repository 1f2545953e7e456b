import {
  ANNOTATION_MAX_REPLICAS,
  ANNOTATION_MIN_REPLICAS,
  LABEL_ACCELERATOR_NAME,
} from "../../api/v1alpha1/constants.js";
import { createHash } from "node:crypto";
import {
  INFERENCE_POOL_APIS,
  poolApiVersion,
  type InferencePoolGroup,
} from "../../collect/inference-pool.js";
import type { ModelSpec, Scenario, VariantSpec } from "./scenario.js";

/**
 * Kubernetes objects of a trial: per variant a Deployment and a VA, with `hpa` actuation an HPA too; per
 * model an InferencePool over its variants' pods and the endpoint picker (a Deployment and a Service)
 * that fronts them.
 */

export const CONTAINER_PORT = 8000;
export const VARIANT_LABEL = "playground.wva.llmd.ai/variant";
/** Label of every model-server pod of a model: the selector of the model's InferencePool. */
export const POOL_LABEL = "playground.wva.llmd.ai/pool";
/** Label of the endpoint picker's pod (value: the pool's name). */
export const EPP_LABEL = "playground.wva.llmd.ai/epp";
/** The endpoint picker's metrics port (as the upstream EPP chart names and numbers it). */
export const EPP_METRICS_PORT = 9090;
/** The API group of the InferencePools a trial creates (and the manager watches). */
export const PLAYGROUND_POOL_GROUP: InferencePoolGroup = "inference.networking.k8s.io";
export const GPU_PRODUCT_LABEL = "nvidia.com/gpu.product";

export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
};

export function namespaceManifest(name: string): Manifest {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name } };
}

/**
 * The vLLM server command line of a variant, as a real Deployment runs it: the emulator's batch size and
 * KV-cache size as vLLM flags, so the token-capacity analyzer can derive capacity from it.
 */
export function vllmServeCommand(modelID: string, v: VariantSpec): string[] {
  return [
    "vllm",
    "serve",
    modelID,
    "--max-num-seqs",
    String(v.emulator.maxBatch),
    "--block-size",
    String(v.emulator.blockSize),
    "--num-gpu-blocks-override",
    String(v.emulator.kvBlocks),
    "--gpu-memory-utilization",
    "0.9",
    "--tensor-parallel-size",
    String(Math.max(1, v.gpusPerReplica)),
  ];
}

/**
 * The variant's Deployment. Pods request `gpusPerReplica` GPUs on a node of the variant's
 * accelerator (node selector on the GPU product label, value as the emulated nodes carry it).
 */
export function deploymentManifest(
  m: ModelSpec,
  v: VariantSpec,
  gpuProduct: (accelerator: string) => string = (a) => a,
): Manifest {
  const labels = { [VARIANT_LABEL]: v.name, app: v.name, [POOL_LABEL]: poolName(m) };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: v.name, namespace: m.namespace, labels },
    spec: {
      replicas: v.initialReplicas,
      selector: { matchLabels: { [VARIANT_LABEL]: v.name } },
      template: {
        metadata: { labels },
        spec: {
          nodeSelector: { [GPU_PRODUCT_LABEL]: gpuProduct(v.accelerator) },
          containers: [
            {
              name: "vllm",
              image: "vllm/vllm-openai:emulated",
              command: vllmServeCommand(m.modelID, v).slice(0, 2),
              args: vllmServeCommand(m.modelID, v).slice(2),
              ports: [{ name: "http", containerPort: CONTAINER_PORT, protocol: "TCP" }],
              resources: {
                requests: { "nvidia.com/gpu": String(v.gpusPerReplica) },
                limits: { "nvidia.com/gpu": String(v.gpusPerReplica) },
              },
              readinessProbe: { httpGet: { path: "/health", port: CONTAINER_PORT } },
            },
          ],
        },
      },
    },
  };
}

/** The variant's VariantAutoscaling: accelerator label, cost, direct-mode bounds as annotations. */
export function vaManifest(m: ModelSpec, v: VariantSpec): Manifest {
  return {
    apiVersion: "llmd.ai/v1alpha1",
    kind: "VariantAutoscaling",
    metadata: {
      name: v.name,
      namespace: m.namespace,
      labels: { [LABEL_ACCELERATOR_NAME]: v.accelerator },
      annotations: {
        [ANNOTATION_MIN_REPLICAS]: String(v.minReplicas),
        [ANNOTATION_MAX_REPLICAS]: String(v.maxReplicas),
      },
    },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: v.name },
      modelID: m.modelID,
      variantCost: costString(v.cost),
    },
  };
}

/** `variantCost` is a decimal string matching `^\d+(\.\d+)?$`. */
export function costString(cost: number): string {
  if (Number.isInteger(cost)) return `${BigInt(cost).toString()}.0`;
  const s = String(cost);
  if (!/e/i.test(s)) return s;
  return cost.toFixed(20).replace(/0+$/, "").replace(/\.$/, ".0");
}

/** An `autoscaling/v2` HPA following `wva_desired_replicas` of the variant (AverageValue 1). */
export function hpaManifest(s: Scenario, m: ModelSpec, v: VariantSpec): Manifest {
  const secs = (ms: number) => Math.round(ms / 1000);
  const policy = { type: "Pods", value: 10, periodSeconds: Math.max(1, secs(s.hpa.syncPeriodMs)) };
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: `${v.name}-hpa`, namespace: m.namespace },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: v.name },
      // a model with scale-to-zero needs minReplicas 0 (the HPAScaleToZero feature gate)
      minReplicas: m.scaleToZero ? v.minReplicas : Math.max(1, v.minReplicas),
      maxReplicas: v.maxReplicas,
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: secs(s.hpa.scaleUpStabilizationWindowMs),
          selectPolicy: "Max",
          policies: [policy],
        },
        scaleDown: {
          stabilizationWindowSeconds: secs(s.hpa.stabilizationWindowMs),
          selectPolicy: "Max",
          policies: [policy],
        },
      },
      metrics: [
        {
          type: "External",
          external: {
            metric: {
              name: "wva_desired_replicas",
              selector: { matchLabels: { variant_name: v.name, exported_namespace: m.namespace } },
            },
            target: { type: "AverageValue", averageValue: "1" },
          },
        },
      ],
    },
  };
}

/** The InferencePool of a model (a DNS label derived from the model ID, unique per model ID). */
export function poolName(m: ModelSpec): string {
  const slug = m.modelID
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  const hash = createHash("sha256").update(m.modelID).digest("hex").slice(0, 6);
  return `${slug || "model"}-${hash}`;
}

/** The model's InferencePool in `group`'s schema: it selects every pod of the model's variants. */
export function inferencePoolManifest(
  m: ModelSpec,
  group: InferencePoolGroup = PLAYGROUND_POOL_GROUP,
): Manifest {
  const name = poolName(m);
  const selector = { [POOL_LABEL]: name };
  const spec =
    INFERENCE_POOL_APIS[group] === "v1"
      ? {
          selector: { matchLabels: selector },
          targetPorts: [{ number: CONTAINER_PORT }],
          endpointPickerRef: { name: `${name}-epp`, port: { number: 9002 } },
        }
      : { selector, targetPortNumber: CONTAINER_PORT, extensionRef: { name: `${name}-epp` } };
  return {
    apiVersion: poolApiVersion(group),
    kind: "InferencePool",
    metadata: { name, namespace: m.namespace },
    spec,
  };
}

/** The endpoint picker of a model: one pod without GPUs, and its Service with a metrics port. */
export function eppManifests(m: ModelSpec): Manifest[] {
  const name = `${poolName(m)}-epp`;
  const labels = { [EPP_LABEL]: poolName(m) };
  const ports = [
    { name: "grpc-ext-proc", port: 9002, targetPort: 9002, protocol: "TCP" },
    { name: "http-metrics", port: EPP_METRICS_PORT, targetPort: EPP_METRICS_PORT, protocol: "TCP" },
  ];
  return [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: m.namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: "epp",
                image: "registry.k8s.io/gateway-api-inference-extension/epp:emulated",
                args: ["--pool-name", poolName(m), "--pool-namespace", m.namespace],
                env: [{ name: "ENABLE_EXPERIMENTAL_FLOW_CONTROL_LAYER", value: "true" }],
                ports: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: "TCP" })),
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: m.namespace },
      spec: { selector: labels, ports },
    },
  ];
}

/** The InferencePool CRDs of both API groups (a loose schema: the emulator stores what it is given). */
export function inferencePoolCRDs(): Manifest[] {
  return (Object.keys(INFERENCE_POOL_APIS) as InferencePoolGroup[]).map((group) => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `inferencepools.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: {
        plural: "inferencepools",
        singular: "inferencepool",
        kind: "InferencePool",
        listKind: "InferencePoolList",
      },
      versions: [
        {
          name: INFERENCE_POOL_APIS[group],
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
              },
            },
          },
        },
      ],
    },
  }));
}

/**
 * All objects of a trial in creation order (namespaces, Deployments, VAs, HPAs, then per model the
 * endpoint picker and the InferencePool; the InferencePool CRDs come first).
 */
export function trialManifests(s: Scenario, gpuProduct?: (accelerator: string) => string): Manifest[] {
  const namespaces = [...new Set(s.models.map((m) => m.namespace))].sort();
  const out: Manifest[] = [...inferencePoolCRDs(), ...namespaces.map(namespaceManifest)];
  for (const m of s.models) for (const v of m.variants) out.push(deploymentManifest(m, v, gpuProduct));
  for (const m of s.models) for (const v of m.variants) out.push(vaManifest(m, v));
  if (s.actuation === "hpa")
    for (const m of s.models) for (const v of m.variants) out.push(hpaManifest(s, m, v));
  for (const m of s.models) out.push(...eppManifests(m), inferencePoolManifest(m));
  return out;
}
