/**
 * Node.js runtime flags the controller manager runs with (the container's entry point, `./bin/manager`
 * and the decision-time benchmark all take them from here). Why each one: docs/design/runtime.md.
 */

/**
 * Young-generation ceiling of the V8 heap, MB per semi-space (V8's default is 16). A cycle over 1,000
 * models allocates about 15 MB that lives until the cycle ends; with a 16 MB semi-space most of it is
 * copied and promoted to the old generation, which then needs full collections. The semi-space only
 * grows to this size under that allocation rate: a small cluster does not pay for it.
 */
export const MAX_SEMI_SPACE_MB = 32;

/** The flags, as given on the `node` command line. */
export const MANAGER_NODE_FLAGS: readonly string[] = [`--max-semi-space-size=${MAX_SEMI_SPACE_MB}`];
