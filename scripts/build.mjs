#!/usr/bin/env node
// Compiles src/ to dist/ (copying the views' browser script), stamps commit and build time, and writes the
// ./bin/manager launcher. (./bin/wva is committed: it runs the sources through tsx, so a checkout needs no build.)
// WVA_COMMIT and WVA_BUILD_DATE override the stamp (the container build passes them as build args).
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});
// the views' browser script is plain JavaScript, read at run time next to the compiled views
cpSync(join(root, "src/views/client"), join(dist, "src/views/client"), { recursive: true });

// the stamp helpers of the program itself, just compiled
const { buildTimestamp, gitCommit } = await import(pathToFileURL(join(dist, "src/version/version.js")).href);
function commit() {
  return process.env.WVA_COMMIT || gitCommit(root);
}
const buildDate = process.env.WVA_BUILD_DATE || buildTimestamp();
writeFileSync(join(dist, "build-info.json"), JSON.stringify({ commit: commit(), buildDate }) + "\n");

const bin = join(root, "bin");
mkdirSync(bin, { recursive: true });
const manager = join(bin, "manager");
// the manager's runtime flags (env -S splits them off the interpreter name)
const { MANAGER_NODE_FLAGS } = await import(pathToFileURL(join(dist, "src/config/node-runtime.js")).href);
writeFileSync(
  manager,
  `#!/usr/bin/env -S node ${MANAGER_NODE_FLAGS.join(" ")}\nimport "../dist/src/cli/manager.js";\n`,
);
chmodSync(manager, 0o755);
console.log(`built dist/ and bin/manager (commit ${commit()}, ${buildDate})`);
