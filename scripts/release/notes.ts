// The CHANGELOG section and RELEASE_NOTES.md of a release (the release guide's template).
import type { ParsedCommit, Sections } from "./commits.js";
import { CHART_NAME, CHART_OCI, DEFAULT_NAMESPACE, IMAGE, REPO_URL } from "./project.js";
import type { ReleaseVersion } from "./semver.js";

function bullet(c: ParsedCommit, text = c.description): string {
  const scope = c.scope ? `**${c.scope}**: ` : "";
  const ref = c.pr ? ` ([#${c.pr}](${REPO_URL}/pull/${c.pr}))` : ` (${c.hash.slice(0, 7)})`;
  return `- ${scope}${text}${ref}`;
}

function list(title: string, items: string[], level = "###"): string[] {
  return items.length === 0 ? [] : [`${level} ${title}`, "", ...items, ""];
}

/** `## [X.Y.Z] - date` with the generated lists and whatever stood under [Unreleased]. */
export function changelogSection(v: ReleaseVersion, s: Sections, date: string, unreleased: string): string {
  const lines = [`## [${v.version}] - ${date}`, ""];
  if (v.prerelease) lines.push(`Release candidate (prerelease) of ${v.major}.${v.minor}.${v.patch}.`, "");
  const body = [
    ...list(
      "Breaking Changes",
      s.breaking.map((c) => bullet(c, c.breakingNote)),
    ),
    ...list(
      "Features",
      s.features.map((c) => bullet(c)),
    ),
    ...list(
      "Bug Fixes",
      s.fixes.map((c) => bullet(c)),
    ),
    ...list(
      "Documentation",
      s.docs.map((c) => bullet(c)),
    ),
  ];
  const notes = unreleased.trim();
  if (notes) body.push(notes, "");
  if (body.length === 0) body.push("No user-visible changes.", "");
  return [...lines, ...body].join("\n");
}

/**
 * Inserts the section below `## [Unreleased]` (whose content moves into the section; a release candidate
 * copies it instead), and adds the
 * compare link. Throws when the CHANGELOG already has the version or lacks the Unreleased heading.
 */
export function updateChangelog(
  text: string,
  v: ReleaseVersion,
  s: Sections,
  date: string,
  previousTag: string | undefined,
): string {
  if (hasChangelogSection(text, v.version))
    throw new Error(`CHANGELOG.md already has a section for ${v.version}`);
  const m = /^## \[Unreleased\][^\n]*\n([\s\S]*?)(?=^## \[|^\[[^\]]+\]: |(?![\s\S]))/m.exec(text);
  if (!m) throw new Error("CHANGELOG.md has no '## [Unreleased]' heading");
  const section = changelogSection(v, s, date, m[1]);
  const head = text.slice(0, m.index);
  const tail = text.slice(m.index + m[0].length);
  // A release candidate copies the hand-written notes; they stay under [Unreleased] for the final release.
  const keep = v.prerelease && m[1].trim() ? `${m[1].trim()}\n\n` : "";
  let out = `${head}## [Unreleased]\n\n${keep}${section}\n${tail}`;
  const link = previousTag
    ? `[${v.version}]: ${REPO_URL}/compare/${previousTag}...${v.tag}`
    : `[${v.version}]: ${REPO_URL}/releases/tag/${v.tag}`;
  const unreleasedLink = `[Unreleased]: ${REPO_URL}/compare/${v.tag}...HEAD`;
  out = out.replace(/^\[Unreleased\]: .*\n?/m, "");
  out = `${out.trimEnd()}\n\n${unreleasedLink}\n${link}\n`;
  return out.replace(/\n{3,}/g, "\n\n");
}

export function hasChangelogSection(text: string, version: string): boolean {
  const escaped = version.replace(/[.]/g, "\\.");
  return new RegExp(`^## \\[${escaped}\\]`, "m").test(text);
}

/** RELEASE_NOTES.md in the release guide's template. */
export function releaseNotes(
  v: ReleaseVersion,
  s: Sections,
  previousTag: string | undefined,
  authors: string[],
): string {
  const L: string[] = [];
  if (v.prerelease) {
    L.push(
      `> **Release candidate.** ${v.tag} is a prerelease for testing: it is marked prerelease on GitHub and`,
      "> does not move the `latest` image tag or the latest release.",
      "",
    );
  }
  L.push("## What's Changed", "");
  L.push(
    ...list(
      "Features",
      s.features.map((c) => bullet(c)),
    ),
  );
  L.push(
    ...list(
      "Bug Fixes",
      s.fixes.map((c) => bullet(c)),
    ),
  );
  L.push(
    ...list(
      "Documentation",
      s.docs.map((c) => bullet(c)),
    ),
  );
  if (s.breaking.length > 0) {
    L.push(
      ...list(
        "Breaking Changes",
        s.breaking.map((c) => bullet(c, `**${c.description}**: ${c.breakingNote}`)),
      ),
    );
    L.push("  **Migration Guide**: <describe the steps users take, with before/after YAML>", "");
  } else {
    L.push("### Breaking Changes", "", "None.", "");
  }
  if (s.features.length + s.fixes.length + s.docs.length === 0) L.push("No user-visible changes.", "");
  L.push(
    "### Upgrade Notes",
    "",
    "**CRD Updates Required**: Helm does not upgrade CRDs. Apply the CRDs of this release before upgrading:",
    "",
    "```bash",
    `kubectl apply -f ${REPO_URL.replace("https://github.com", "https://raw.githubusercontent.com")}/${v.tag}/charts/${CHART_NAME}/crds/llmd.ai_variantautoscalings.yaml`,
    "",
    `helm upgrade ${CHART_NAME} \\`,
    `  ${CHART_OCI} \\`,
    `  --version ${v.version} \\`,
    `  --namespace ${DEFAULT_NAMESPACE}`,
    "```",
    "",
    "### Deprecations",
    "",
    "None.",
    "",
    "## Installation",
    "",
    "### Docker Image",
    "",
    "```bash",
    `docker pull ${IMAGE}:${v.tag}`,
    "```",
    "",
    "### Helm Chart",
    "",
    "```bash",
    `helm install ${CHART_NAME} \\`,
    `  ${CHART_OCI} \\`,
    `  --version ${v.version} \\`,
    `  --namespace ${DEFAULT_NAMESPACE} \\`,
    "  --create-namespace",
    "```",
    "",
    "## Full Changelog",
    "",
    previousTag
      ? `**Full Changelog**: ${REPO_URL}/compare/${previousTag}...${v.tag}`
      : `**Full Changelog**: ${REPO_URL}/commits/${v.tag}`,
    "",
    "---",
    "",
    `**Contributors**: Thanks to everyone who made this release possible: ${authors.join(", ") || "—"}.`,
    "",
  );
  return L.join("\n");
}
