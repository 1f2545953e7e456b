import { parseDocument } from "yaml";

/**
 * Parses one YAML (or JSON) document strictly: syntax errors, duplicate keys, unknown tags (`!foo`) and
 * more than 100 alias expansions are errors. Throws an Error whose message is one line. A document that
 * is plain JSON is read by the JSON parser (JSON is YAML, and reading it as such is many times slower).
 */
export function parseYamlStrict(text: string): unknown {
  if (/^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // flow-style YAML such as `{a: 1}`: read below
    }
  }
  const doc = parseDocument(text, {
    strict: true,
    uniqueKeys: true,
    prettyErrors: false,
    logLevel: "silent",
  });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) throw new Error(firstLine(problem.message));
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new Error(firstLine(err instanceof Error ? err.message : String(err)));
  }
}

function firstLine(message: string): string {
  return message.split("\n")[0].trim();
}
