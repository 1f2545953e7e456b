/** Value of `wva_desired_ratio`: desired / current, or desired itself when current is 0. */
export function desiredRatio(current: number, desired: number): number {
  return current === 0 ? desired : desired / current;
}
