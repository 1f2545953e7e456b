/**
 * A small typed builder for Kubernetes structural OpenAPI v3 schemas.
 *
 * Each builder call returns a node holding the JSON schema (`node.schema`) and, at the type level
 * only, the TypeScript type of the values it accepts (`Static<typeof node>`). The API types and the
 * CRD's `openAPIV3Schema` therefore come from the same definition.
 *
 * Only what a structural schema allows is offered: every node has a `type`; objects are closed by
 * listing `properties` (unknown fields are pruned by the API server, never `additionalProperties: false`).
 */

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps used by this project. */
export interface JSONSchemaProps {
  type: "object" | "string" | "integer" | "number" | "boolean" | "array";
  description?: string;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  enum?: readonly (string | number | boolean)[];
  default?: unknown;
  nullable?: boolean;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  /** Schema of every value of a map-like object (instead of `properties`). */
  additionalProperties?: JSONSchemaProps;
  "x-kubernetes-map-type"?: "atomic" | "granular";
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

declare const VALUE: unique symbol;

/** A schema node accepting values of type T. */
export interface Node<T> {
  readonly schema: JSONSchemaProps;
  /** Type-level only: the TypeScript type of accepted values. */
  readonly [VALUE]?: T;
}

/** A property that may be absent from its object. */
export interface OptionalNode<T> extends Node<T> {
  readonly optional: true;
}

/** The TypeScript type of the values a node accepts. */
export type Static<N> = N extends Node<infer T> ? T : never;

type Props = Record<string, Node<unknown>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type RequiredKeys<P extends Props> = {
  [K in keyof P]: P[K] extends OptionalNode<unknown> ? never : K;
}[keyof P];
type OptionalKeys<P extends Props> = Exclude<keyof P, RequiredKeys<P>>;
/** The object type of a property map: optional nodes become optional keys. */
export type ObjectStatic<P extends Props> = Simplify<
  { [K in RequiredKeys<P>]: Static<P[K]> } & { [K in OptionalKeys<P>]?: Static<P[K]> }
>;

interface Common {
  description?: string;
}

function node<T>(schema: JSONSchemaProps): Node<T> {
  return { schema } as Node<T>;
}

/** Deep copy, so that a node shared between places never aliases in the emitted schema. */
function clone(schema: JSONSchemaProps): JSONSchemaProps {
  return JSON.parse(JSON.stringify(schema)) as JSONSchemaProps;
}

export function string(
  opts: Common & {
    format?: string;
    pattern?: string;
    minLength?: number;
    maxLength?: number;
    default?: string;
  } = {},
): Node<string> {
  return node({ type: "string", ...opts });
}

export function stringEnum<const V extends readonly string[]>(values: V, opts: Common = {}): Node<V[number]> {
  return node({ type: "string", ...opts, enum: [...values] });
}

export function integer(
  opts: Common & { format?: "int32" | "int64"; minimum?: number; maximum?: number; default?: number } = {},
): Node<number> {
  return node({ type: "integer", ...opts });
}

export function number(
  opts: Common & { minimum?: number; maximum?: number; default?: number } = {},
): Node<number> {
  return node({ type: "number", ...opts });
}

export function boolean(opts: Common & { default?: boolean } = {}): Node<boolean> {
  return node({ type: "boolean", ...opts });
}

/** An RFC 3339 timestamp (metav1.Time), kept as a string. */
export function dateTime(opts: Common = {}): Node<string> {
  return node({ type: "string", format: "date-time", ...opts });
}

/** A closed object: `required` lists every property not wrapped in `optional()`. */
export function object<P extends Props>(
  properties: P,
  opts: Common & { mapType?: "atomic" | "granular" } = {},
): Node<ObjectStatic<P>> {
  const props: Record<string, JSONSchemaProps> = {};
  const required: string[] = [];
  for (const [key, child] of Object.entries(properties)) {
    props[key] = clone(child.schema);
    if (!(child as Partial<OptionalNode<unknown>>).optional) required.push(key);
  }
  const schema: JSONSchemaProps = { type: "object", properties: props };
  if (opts.description !== undefined) schema.description = opts.description;
  if (required.length > 0) schema.required = required.sort();
  if (opts.mapType) schema["x-kubernetes-map-type"] = opts.mapType;
  return node(schema);
}

/** An object whose content the schema does not describe (`type: object` only), typed as T. */
export function opaqueObject<T extends object>(opts: Common = {}): Node<T> {
  return node({ type: "object", ...opts });
}

export function array<T>(
  items: Node<T>,
  opts: Common & {
    listType?: "atomic" | "set" | "map";
    listMapKeys?: string[];
    minItems?: number;
    maxItems?: number;
  } = {},
): Node<T[]> {
  const schema: JSONSchemaProps = { type: "array", items: clone(items.schema) };
  if (opts.description !== undefined) schema.description = opts.description;
  if (opts.minItems !== undefined) schema.minItems = opts.minItems;
  if (opts.maxItems !== undefined) schema.maxItems = opts.maxItems;
  if (opts.listType) schema["x-kubernetes-list-type"] = opts.listType;
  if (opts.listMapKeys) schema["x-kubernetes-list-map-keys"] = [...opts.listMapKeys];
  return node(schema);
}

/** A map-like object: any keys, every value accepted by `values`. */
export function record<T>(values: Node<T>, opts: Common = {}): Node<Record<string, T>> {
  return node({ type: "object", ...opts, additionalProperties: clone(values.schema) });
}

/** Also accepts `null`. */
export function nullable<T>(child: Node<T>): Node<T | null> {
  return node({ ...clone(child.schema), nullable: true });
}

/** Marks a property as optional in its parent object. */
export function optional<T>(child: Node<T>): OptionalNode<T> {
  return { schema: child.schema, optional: true } as OptionalNode<T>;
}
