#!/usr/bin/env node
// Compiles src/ to dist/ (copying the views' browser script), stamps commit and build time, and writes the ./bin/wva and ./bin/manager launchers.
// WVA_COMMIT and WVA_BUILD_DATE override the stamp (the container build passes them as build args).
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});
// the views' browser script is plain JavaScript, read at run time next to the compiled views
cpSync(join(root, "src/views/client"), join(dist, "src/views/client"), { recursive: true });

function commit() {
  if (process.env.WVA_COMMIT) return process.env.WVA_COMMIT;
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], {
      cwd: root,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
}
const buildDate = process.env.WVA_BUILD_DATE || new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
writeFileSync(join(dist, "build-info.json"), JSON.stringify({ commit: commit(), buildDate }) + "\n");

const bin = join(root, "bin");
mkdirSync(bin, { recursive: true });
for (const [name, entry] of [
  ["wva", "wva.js"],
  ["manager", "manager.js"],
]) {
  const file = join(bin, name);
  writeFileSync(file, `#!/usr/bin/env node\nimport "../dist/src/cli/${entry}";\n`);
  chmodSync(file, 0o755);
}
console.log(`built dist/ and bin/ (commit ${commit()}, ${buildDate})`);
