/**
 * Escapes a value for use inside a double-quoted PromQL label matcher: each backslash becomes `\\`,
 * then each double quote becomes `\"` (in that order), so the value stays one literal label value.
 */
export function escapePromQLValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}
