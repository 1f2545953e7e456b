import type { StatusCause } from "./errors.js";
import type { PrinterColumn, ResourceType } from "./resources.js";
import { compileSchema } from "./schema.js";
import { isObject, type KObject } from "./util.js";

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: unknown };
  subresources?: {
    status?: unknown;
    scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  };
  additionalPrinterColumns?: PrinterColumn[];
}

const req = (field: string): StatusCause => ({
  reason: "FieldValueRequired",
  field,
  message: "Required value",
});

/** Validation of a CustomResourceDefinition object (the parts the emulator relies on). */
export function validateCrd(crd: KObject): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = crd.spec ?? {};
  const names = isObject(spec.names) ? spec.names : {};
  if (typeof spec.group !== "string" || !spec.group) out.push(req("spec.group"));
  if (typeof names.plural !== "string" || !names.plural) out.push(req("spec.names.plural"));
  if (typeof names.kind !== "string" || !names.kind) out.push(req("spec.names.kind"));
  if (spec.scope !== "Namespaced" && spec.scope !== "Cluster")
    out.push({
      reason: "FieldValueNotSupported",
      field: "spec.scope",
      message: `Unsupported value: ${JSON.stringify(spec.scope)}: supported values: "Cluster", "Namespaced"`,
    });
  const expected = `${String(names.plural)}.${String(spec.group)}`;
  if (crd.metadata?.name !== expected)
    out.push({
      reason: "FieldValueInvalid",
      field: "metadata.name",
      message: `Invalid value: ${JSON.stringify(crd.metadata?.name)}: must be spec.names.plural+"."+spec.group`,
    });
  const versions = Array.isArray(spec.versions) ? (spec.versions as CrdVersion[]) : [];
  if (versions.length === 0) out.push(req("spec.versions"));
  else if (versions.filter((v) => v.storage).length !== 1)
    out.push({
      reason: "FieldValueInvalid",
      field: "spec.versions",
      message: `Invalid value: ${JSON.stringify(versions.map((v) => v.name))}: must have exactly one version marked as storage version`,
    });
  versions.forEach((v, i) => {
    try {
      compileSchema(v.schema?.openAPIV3Schema);
    } catch (err) {
      out.push({
        reason: "FieldValueInvalid",
        field: `spec.versions[${i}].schema.openAPIV3Schema`,
        message: `Invalid value: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  });
  return out;
}

/** The resource types a CRD serves: one per served version, sharing storage. */
export function crdToTypes(crd: KObject): ResourceType[] {
  const spec = crd.spec ?? {};
  const names = (spec.names ?? {}) as Record<string, unknown>;
  const group = String(spec.group);
  const kind = String(names.kind);
  const out: ResourceType[] = [];
  for (const v of (spec.versions as CrdVersion[]) ?? []) {
    if (v.served === false) continue;
    const schema = compileSchema(v.schema?.openAPIV3Schema);
    const scale = v.subresources?.scale;
    out.push({
      group,
      version: v.name,
      resource: String(names.plural),
      singular: String(names.singular ?? kind.toLowerCase()),
      kind,
      listKind: String(names.listKind ?? `${kind}List`),
      namespaced: spec.scope !== "Cluster",
      shortNames: (names.shortNames as string[]) ?? [],
      categories: (names.categories as string[]) ?? [],
      status: v.subresources?.status !== undefined,
      scale: scale
        ? {
            specReplicasPath: scale.specReplicasPath,
            statusReplicasPath: scale.statusReplicasPath,
            labelSelectorPath: scale.labelSelectorPath,
          }
        : undefined,
      custom: true,
      printerColumns: v.additionalPrinterColumns,
      normalize: (obj) => schema.normalize(obj),
      validate: (obj) => ({ causes: schema.validate(obj), unknownFields: [] }),
      crdName: crd.metadata?.name,
      openAPIV3Schema: v.schema?.openAPIV3Schema,
    });
  }
  return out;
}
