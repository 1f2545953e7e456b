import { CRD_NAME, GROUP, KIND, LIST_KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION } from "./constants.js";
import type { JSONSchemaProps } from "./schema-builder.js";
import { VariantAutoscalingSchema } from "./types.js";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; annotations?: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[] };
    scope: "Namespaced" | "Cluster";
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: { status: Record<string, never> };
    }>;
  };
}

/** `kubectl get va` columns, in order. */
export const PRINTER_COLUMNS: PrinterColumn[] = [
  { name: "Target", type: "string", jsonPath: ".spec.scaleTargetRef.name" },
  { name: "Model", type: "string", jsonPath: ".spec.modelID" },
  { name: "Optimized", type: "string", jsonPath: ".status.desiredOptimizedAlloc.numReplicas" },
  {
    name: "MetricsReady",
    type: "string",
    jsonPath: ".status.conditions[?(@.type=='MetricsAvailable')].status",
  },
  {
    name: "Reason",
    type: "string",
    description: "Why the latest decision is what it is (the OptimizationReady condition's reason)",
    jsonPath: ".status.conditions[?(@.type=='OptimizationReady')].reason",
  },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

/** The openAPIV3Schema of the only served version (a fresh copy on each call). */
export function openAPIV3Schema(): JSONSchemaProps {
  return JSON.parse(JSON.stringify(VariantAutoscalingSchema.schema)) as JSONSchemaProps;
}

/** The complete `variantautoscalings.llmd.ai` CustomResourceDefinition. */
export function variantAutoscalingCRD(): CustomResourceDefinition {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: CRD_NAME },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: LIST_KIND,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
      },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          additionalPrinterColumns: PRINTER_COLUMNS.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: openAPIV3Schema() },
          subresources: { status: {} },
        },
      ],
    },
  };
}
