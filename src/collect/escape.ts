/**
 * Escapes a value for use inside a double-quoted PromQL label matcher: first every backslash becomes
 * `\\`, then every double quote becomes `\"`. The order matters: escaping quotes first would let the
 * backslash pass turn `\"` back into an open quote. Example: `prod",malicious="attack` becomes
 * `prod\",malicious=\"attack`, which Prometheus reads as one literal label value. Newlines, carriage
 * returns and tabs become `\n`, `\r` and `\t`, which a PromQL string may not hold literally.
 */
export function escapePromQLValue(value: string): string {
  return value
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t");
}
