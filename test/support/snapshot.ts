import assert from "node:assert/strict";
import { SnapshotError } from "../../src/cli/decide/snapshot.js";

/** Asserts that `read()` refuses the snapshot naming `field` with a rule matching `rule`. */
export function assertSnapshotRejects(read: () => unknown, field: string, rule: RegExp): void {
  assert.throws(
    read,
    (e: unknown) => e instanceof SnapshotError && e.field === field && rule.test(e.rule),
    `${field} ${rule}`,
  );
}
