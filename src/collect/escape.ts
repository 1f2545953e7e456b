/**
 * Escapes a value for use inside a double-quoted PromQL label matcher: first every backslash becomes
 * `\\`, then every double quote becomes `\"`. The order matters: escaping quotes first would let the
 * backslash pass turn `\"` back into an open quote. Example: `prod",malicious="attack` becomes
 * `prod\",malicious=\"attack`, which Prometheus reads as one literal label value.
 */
export function escapePromQLValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}
