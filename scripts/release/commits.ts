// Conventional Commits (https://www.conventionalcommits.org/) → release note sections.

export interface Commit {
  hash: string;
  subject: string;
  body: string;
  author: string;
}

export interface ParsedCommit {
  type: string;
  scope?: string;
  breaking: boolean;
  /** Text after "BREAKING CHANGE:" in the body, or the description when only "!" marks it. */
  breakingNote?: string;
  description: string;
  /** Pull-request number from a trailing "(#123)". */
  pr?: number;
  hash: string;
  author: string;
}

const HEADER = /^(\w+)(?:\(([^)]*)\))?(!)?: (.+)$/;

/** Parses one commit; undefined when the subject is not a Conventional Commit. */
export function parseCommit(c: Commit): ParsedCommit | undefined {
  const m = HEADER.exec(c.subject.trim());
  if (!m) return undefined;
  let description = m[4].trim();
  let pr: number | undefined;
  const prMatch = /\s*\(#(\d+)\)$/.exec(description);
  if (prMatch) {
    pr = Number(prMatch[1]);
    description = description.slice(0, prMatch.index).trim();
  }
  const note = /(?:^|\n)BREAKING[ -]CHANGE:\s*([\s\S]+?)(?:\n\s*\n|$)/.exec(c.body);
  const breaking = m[3] === "!" || note !== null;
  return {
    type: m[1].toLowerCase(),
    scope: m[2] || undefined,
    breaking,
    breakingNote: breaking ? (note ? note[1].replace(/\s*\n\s*/g, " ").trim() : description) : undefined,
    description,
    pr,
    hash: c.hash,
    author: c.author,
  };
}

export interface Sections {
  breaking: ParsedCommit[];
  features: ParsedCommit[];
  fixes: ParsedCommit[];
  docs: ParsedCommit[];
  /** Commits of other types (chore, test, ci, refactor, …) or not conventional: not listed. */
  other: number;
}

export function groupCommits(commits: Commit[]): Sections {
  const s: Sections = { breaking: [], features: [], fixes: [], docs: [], other: 0 };
  for (const c of commits) {
    const p = parseCommit(c);
    if (!p) {
      s.other++;
      continue;
    }
    if (p.breaking) s.breaking.push(p);
    if (p.type === "feat") s.features.push(p);
    else if (p.type === "fix") s.fixes.push(p);
    else if (p.type === "docs") s.docs.push(p);
    else if (!p.breaking) s.other++;
  }
  return s;
}
