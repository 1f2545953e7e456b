/**
 * The few dense-matrix operations the parameter tuner needs (3 states, 2 observations), as plain
 * arrays of rows. Small and explicit on purpose: the largest product is 3×3, the only inverse 2×2.
 */

export type Matrix = number[][];

export function zeros(rows: number, cols: number): Matrix {
  return Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
}

export function identity(n: number): Matrix {
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m[i][i] = 1;
  return m;
}

export function diag(values: readonly number[]): Matrix {
  const m = zeros(values.length, values.length);
  values.forEach((v, i) => (m[i][i] = v));
  return m;
}

export function transpose(a: Matrix): Matrix {
  return a[0].map((_, j) => a.map((row) => row[j]));
}

export function multiply(a: Matrix, b: Matrix): Matrix {
  if (a[0].length !== b.length)
    throw new Error(`cannot multiply ${a.length}×${a[0].length} by ${b.length}×${b[0].length}`);
  const out = zeros(a.length, b[0].length);
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b[0].length; j++) {
      let s = 0;
      for (let k = 0; k < b.length; k++) s += a[i][k] * b[k][j];
      out[i][j] = s;
    }
  }
  return out;
}

export function add(a: Matrix, b: Matrix, sign = 1): Matrix {
  return a.map((row, i) => row.map((v, j) => v + sign * b[i][j]));
}

/** Inverse of a 2×2 matrix; undefined when singular. */
export function inverse2(a: Matrix): Matrix | undefined {
  const det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
  if (det === 0 || !Number.isFinite(det)) return undefined;
  return [
    [a[1][1] / det, -a[0][1] / det],
    [-a[1][0] / det, a[0][0] / det],
  ];
}

/** Column vector from an array. */
export function column(v: readonly number[]): Matrix {
  return v.map((x) => [x]);
}
