import type { KObject } from "../../src/playground/cluster/index.js";

/** A small namespaced CRD with a status and a scale subresource, defaults and printer columns. */
export const widgetCrd: KObject = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: {
      kind: "Widget",
      plural: "widgets",
      singular: "widget",
      listKind: "WidgetList",
      shortNames: ["wd"],
    },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        subresources: {
          status: {},
          scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas" },
        },
        additionalPrinterColumns: [
          { name: "Size", type: "integer", jsonPath: ".spec.size" },
          { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
        ],
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: {
                type: "object",
                required: ["size"],
                properties: {
                  size: { type: "integer", minimum: 1 },
                  replicas: { type: "integer", minimum: 0 },
                  color: { type: "string", enum: ["blue", "red"], default: "blue" },
                },
              },
              status: {
                type: "object",
                properties: {
                  replicas: { type: "integer" },
                  observed: { type: "string" },
                  conditions: {
                    type: "array",
                    items: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

export function deployment(
  name: string,
  replicas: number,
  extra: { gpus?: number; product?: string } = {},
): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...(extra.product ? { nodeSelector: { "nvidia.com/gpu.product": extra.product } } : {}),
          containers: [
            {
              name: "vllm",
              image: "vllm/vllm-openai:latest",
              ports: [{ containerPort: 8000 }],
              ...(extra.gpus ? { resources: { limits: { "nvidia.com/gpu": String(extra.gpus) } } } : {}),
            },
          ],
        },
      },
    },
  };
}

/** Polls `check` until it returns a truthy value (no timing assertions: only a generous bound). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
