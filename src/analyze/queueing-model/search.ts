/** Bisection search on a monotone function, used to size a replica against latency targets. */

/** Relative tolerance of the search. */
export const SEARCH_TOLERANCE = 1e-6;
/** Bisection steps before the search settles for the last midpoint. */
export const SEARCH_MAX_ITERATIONS = 100;

/** True when `x` is within the relative tolerance `tol` of `v` (exact equality always counts). */
export function withinTolerance(x: number, v: number, tol: number): boolean {
  if (x === v) return true;
  if (v === 0 || tol < 0) return false;
  return Math.abs((x - v) / v) <= tol;
}

export interface SearchResult {
  x: number;
  /**
   * 0: found (or the last midpoint after the iteration limit); -1: the target lies below the function's
   * range on [xMin, xMax] (x = xMin); +1: it lies above (x = xMax).
   */
  indicator: -1 | 0 | 1;
}

/**
 * Finds x in [xMin, xMax] with f(x) within SEARCH_TOLERANCE of `target`, for f monotone on the
 * interval (equal end values count as decreasing). Throws when the range is inverted or f throws.
 */
export function bisect(xMin: number, xMax: number, target: number, f: (x: number) => number): SearchResult {
  if (xMin > xMax) throw new Error(`invalid range [${xMin}, ${xMax}]`);
  const yMin = f(xMin);
  if (withinTolerance(yMin, target, SEARCH_TOLERANCE)) return { x: xMin, indicator: 0 };
  const yMax = f(xMax);
  if (withinTolerance(yMax, target, SEARCH_TOLERANCE)) return { x: xMax, indicator: 0 };
  const increasing = yMin < yMax;
  if (increasing ? target < yMin : target > yMin) return { x: xMin, indicator: -1 };
  if (increasing ? target > yMax : target < yMax) return { x: xMax, indicator: 1 };
  let lo = xMin;
  let hi = xMax;
  let x = (lo + hi) / 2;
  for (let i = 0; i < SEARCH_MAX_ITERATIONS; i++) {
    x = (lo + hi) / 2;
    const y = f(x);
    if (withinTolerance(y, target, SEARCH_TOLERANCE)) break;
    if (increasing ? target < y : target > y) hi = x;
    else lo = x;
  }
  return { x, indicator: 0 };
}
