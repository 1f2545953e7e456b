// Release versions: vMAJOR.MINOR.PATCH for final releases, vMAJOR.MINOR.PATCH-rc.N for release candidates.
// Nothing else is a release tag (no -rc1, -rc-1 or -test spellings).

export interface ReleaseVersion {
  major: number;
  minor: number;
  patch: number;
  /** Release-candidate number; undefined for a final release. */
  rc?: number;
  /** Without the "v": 1.2.3 or 1.2.3-rc.4 (package.json, Chart.yaml version). */
  version: string;
  /** With the "v": v1.2.3 (git tag, image tag, Chart.yaml appVersion). */
  tag: string;
  prerelease: boolean;
}

const PATTERN = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-rc\.([1-9]\d*))?$/;

/** Parses "v1.2.3", "1.2.3", "v1.2.3-rc.1"; returns undefined for anything else. */
export function parseVersion(text: string): ReleaseVersion | undefined {
  const m = PATTERN.exec(text.trim());
  if (!m) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const rc = m[4] === undefined ? undefined : Number(m[4]);
  const version = `${major}.${minor}.${patch}${rc === undefined ? "" : `-rc.${rc}`}`;
  return { major, minor, patch, rc, version, tag: `v${version}`, prerelease: rc !== undefined };
}

/** Semver precedence: negative when a < b. A release candidate precedes its final release. */
export function compareVersions(a: ReleaseVersion, b: ReleaseVersion): number {
  for (const k of ["major", "minor", "patch"] as const) if (a[k] !== b[k]) return a[k] - b[k];
  if (a.rc === b.rc) return 0;
  if (a.rc === undefined) return 1;
  if (b.rc === undefined) return -1;
  return a.rc - b.rc;
}
