// Static checks of the Dockerfile and .dockerignore (no Docker engine here; the image build itself runs
// only in GitHub Actions, see docs/developer-guide/testing.md).
import assert from "node:assert/strict";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { MANAGER_NODE_FLAGS } from "../../src/config/node-runtime.js";
import { root, run } from "./helpers.js";

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  platformFlag?: string;
  body: Instruction[];
}

/** Parses a Dockerfile into stages: joins continuation lines, drops comments and parser directives. */
export function parseDockerfile(text: string): { globalArgs: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (current === "" && /^\s*#/.test(line)) continue;
    if (line.endsWith("\\")) {
      current += line.slice(0, -1) + " ";
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = "";
  }
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\w+)\s+(.*)$/s.exec(l);
    if (!m) throw new Error(`cannot parse Dockerfile line: ${l}`);
    const ins = { op: m[1].toUpperCase(), args: m[2].replace(/\s+/g, " ").trim() };
    if (ins.op === "FROM") {
      const f = /^(?:(--platform=\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!f) throw new Error(`bad FROM: ${ins.args}`);
      stages.push({ platformFlag: f[1], from: f[2], name: f[3], body: [] });
    } else if (stages.length === 0) {
      globalArgs.push(ins);
    } else {
      stages[stages.length - 1].body.push(ins);
    }
  }
  return { globalArgs, stages };
}

const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const { globalArgs, stages } = parseDockerfile(dockerfile);
const final = stages[stages.length - 1];
const argDefault = (name: string) =>
  globalArgs.find((a) => a.op === "ARG" && a.args.startsWith(`${name}=`))?.args.split("=")[1];
const resolveImage = (ref: string) => ref.replace(/^\$\{(\w+)\}$/, (_, n: string) => argDefault(n) ?? ref);

describe("Dockerfile (static)", () => {
  test("multi-stage: dependency and build stages on the build platform, then a runtime stage", () => {
    assert.ok(stages.length >= 3, `expected at least 3 stages, found ${stages.length}`);
    const names = stages.map((s) => s.name);
    assert.ok(names.includes("deps") && names.includes("build"));
    for (const s of stages.slice(0, -1)) assert.equal(s.platformFlag, "--platform=$BUILDPLATFORM");
    assert.equal(final.name, undefined);
  });

  test("base images are fully qualified, not :latest; the runtime is distroless Node.js LTS non-root", () => {
    for (const s of stages) {
      const image = resolveImage(s.from);
      assert.match(image, /^(docker\.io|gcr\.io|ghcr\.io|quay\.io|registry\.k8s\.io)\//, image);
      assert.doesNotMatch(image, /:latest$/);
      assert.match(image, /:/, `${image} has no tag`);
    }
    const runtime = resolveImage(final.from);
    assert.match(runtime, /^gcr\.io\/distroless\/nodejs(\d+)-debian\d+:nonroot$/);
    const major = Number(/nodejs(\d+)/.exec(runtime)![1]);
    assert.equal(major % 2, 0, "Node.js LTS lines have even major versions");
    assert.ok(major >= 20);
  });

  test("the build runs npm ci and stamps commit and build date from the VERSION/COMMIT/BUILD_DATE args", () => {
    const build = stages.find((s) => s.name === "build")!;
    const ops = build.body.map((i) => `${i.op} ${i.args}`);
    assert.ok(ops.some((o) => /^RUN npm ci\b/.test(o)));
    for (const a of ["VERSION", "COMMIT", "BUILD_DATE"])
      assert.ok(
        ops.some((o) => o.startsWith(`ARG ${a}`)),
        a,
      );
    const envLine = ops.find((o) => o.startsWith("ENV "))!;
    assert.match(envLine, /WVA_COMMIT=\$\{COMMIT\}/);
    assert.match(envLine, /WVA_BUILD_DATE=\$\{BUILD_DATE\}/);
    const runBuild = ops.findIndex((o) => o.includes("node scripts/build.mjs"));
    assert.ok(runBuild > ops.indexOf(envLine), "build must run after the stamp variables are set");
    assert.match(ops[runBuild], /npm pkg set "version=\$\{VERSION#v\}"/);
    // scripts/build.mjs reads exactly these variables.
    const buildScript = readFileSync(join(root, "scripts/build.mjs"), "utf8");
    assert.match(buildScript, /process\.env\.WVA_COMMIT/);
    assert.match(buildScript, /process\.env\.WVA_BUILD_DATE/);
  });

  test("production dependencies only: the runtime copies node_modules from the --omit=dev stage", () => {
    const deps = stages.find((s) => s.name === "deps")!;
    assert.ok(deps.body.some((i) => i.op === "RUN" && /npm ci\b.*--omit=dev/.test(i.args)));
    const copies = final.body.filter((i) => i.op === "COPY" || i.op === "ADD");
    assert.ok(copies.length > 0);
    for (const c of copies) {
      assert.equal(c.op, "COPY", "no ADD in the runtime stage");
      assert.match(c.args, /^--from=(deps|build) /, `runtime copies only from earlier stages: ${c.args}`);
    }
    const nodeModules = copies.filter((c) => c.args.includes("node_modules"));
    assert.equal(nodeModules.length, 1);
    assert.match(nodeModules[0].args, /^--from=deps /);
    const fromBuild = copies
      .filter((c) => c.args.startsWith("--from=build"))
      .map((c) => c.args.split(" ")[1]);
    assert.deepEqual(fromBuild.sort(), ["/src/dist", "/src/package.json"]);
    assert.ok(!final.body.some((i) => i.op === "RUN"), "distroless runtime has no shell: no RUN");
  });

  test("non-root user, OCI labels with version and revision, ENTRYPOINT the manager", () => {
    const user = final.body.filter((i) => i.op === "USER").pop();
    assert.ok(user, "USER missing in runtime stage");
    const uid = user.args.split(":")[0];
    assert.ok(
      /^\d+$/.test(uid) && Number(uid) !== 0,
      `USER must be a numeric non-root uid, got ${user.args}`,
    );
    // The chart and kustomize run the pod as the same uid.
    assert.match(
      readFileSync(join(root, "charts/workload-variant-autoscaler/values.yaml"), "utf8"),
      new RegExp(`runAsUser: ${uid}`),
    );
    const labels = final.body
      .filter((i) => i.op === "LABEL")
      .map((i) => i.args)
      .join(" ");
    for (const [k, v] of [
      ["org.opencontainers.image.version", "${VERSION}"],
      ["org.opencontainers.image.revision", "${COMMIT}"],
      ["org.opencontainers.image.source", "https://github.com/"],
      ["org.opencontainers.image.licenses", "Apache-2.0"],
    ]) {
      assert.ok(labels.includes(`${k}="${v}`), `label ${k}`);
    }
    // ARGs used in the runtime stage must be declared in it (ARG scope is per stage).
    for (const a of ["VERSION", "COMMIT"])
      assert.ok(final.body.some((i) => i.op === "ARG" && i.args.startsWith(a)));
    const entry = final.body.filter((i) => i.op === "ENTRYPOINT").pop();
    assert.ok(entry);
    const argv = JSON.parse(entry.args) as string[];
    assert.deepEqual(argv, ["/nodejs/bin/node", ...MANAGER_NODE_FLAGS, "/app/dist/src/cli/manager.js"]);
    // The entry point is the compiled manager: its source exists and the build compiles src/.
    assert.ok(existsSync(join(root, "src/cli/manager.ts")));
    assert.match(readFileSync(join(root, "tsconfig.build.json"), "utf8"), /"src\/\*\*\/\*\.ts"/);
  });

  test(".dockerignore keeps the context to what the Dockerfile copies", () => {
    const rules = readFileSync(join(root, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    assert.equal(rules[0], "*", "allow-list: start by excluding everything");
    const allowed = rules.filter((r) => r.startsWith("!")).map((r) => r.slice(1));
    // Every COPY source from the context is allowed.
    const sources = stages
      .flatMap((s) => s.body)
      .filter((i) => i.op === "COPY" && !i.args.startsWith("--from"))
      .flatMap((i) => i.args.split(" ").slice(0, -1));
    for (const src of sources) {
      assert.ok(
        allowed.some((a) => a === src || a === `${src}/`),
        `COPY source ${src} is excluded by .dockerignore`,
      );
      assert.ok(existsSync(join(root, src)), `COPY source ${src} does not exist`);
    }
    for (const never of ["**/node_modules", "**/*.test.ts"]) assert.ok(rules.includes(never), never);
    assert.ok(!allowed.some((a) => /^(test|\.git|node_modules|dist|charts|docs)/.test(a)));
  });

  test("the image's build and layout, replayed without Docker, print the stamped version", () => {
    // Replays the build stage (copy the allowed context, set the version from VERSION, build with
    // WVA_COMMIT / WVA_BUILD_DATE) and the runtime layout (/app with package.json, dist, node_modules),
    // then runs the ENTRYPOINT with --version as `docker run IMAGE --version` would.
    const tmp = mkdtempSync(join(tmpdir(), "wva-image-"));
    try {
      const src = join(tmp, "src");
      mkdirSync(join(src, "scripts"), { recursive: true });
      for (const f of ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "src"]) {
        cpSync(join(root, f), join(src, f), { recursive: true });
      }
      cpSync(join(root, "scripts/build.mjs"), join(src, "scripts/build.mjs"));
      symlinkSync(join(root, "node_modules"), join(src, "node_modules"));
      const pkg = JSON.parse(readFileSync(join(src, "package.json"), "utf8"));
      pkg.version = "9.8.7-rc.1"; // what `npm pkg set "version=${VERSION#v}"` does for VERSION=v9.8.7-rc.1
      writeFileSync(join(src, "package.json"), JSON.stringify(pkg, null, 2));
      const env = { ...process.env, WVA_COMMIT: "0123456789ab", WVA_BUILD_DATE: "2026-01-02T03:04:05Z" };
      const b = run(process.execPath, ["scripts/build.mjs"], { cwd: src, env });
      assert.equal(b.status, 0, b.stderr);
      const app = join(tmp, "app");
      mkdirSync(app);
      cpSync(join(src, "dist"), join(app, "dist"), { recursive: true });
      cpSync(join(src, "package.json"), join(app, "package.json"));
      symlinkSync(join(root, "node_modules"), join(app, "node_modules"));
      // Every package the manager loads at run time is a production dependency (the image has no others).
      const deps = Object.keys(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).dependencies);
      const seen = new Set<string>();
      const bare = new Set<string>();
      const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        const code = readFileSync(file, "utf8");
        for (const m of code.matchAll(
          /(?:^|\n)\s*(?:import|export)[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|(?:^|\n)import\s*["']([^"']+)["']/g,
        )) {
          const spec = m[1] ?? m[2] ?? m[3];
          if (spec.startsWith(".")) visit(join(dirname(file), spec));
          else if (!spec.startsWith("node:"))
            bare.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
        }
      };
      visit(join(app, "dist/src/cli/manager.js"));
      assert.ok(seen.size > 3, "import graph not followed");
      for (const b of bare)
        assert.ok(deps.includes(b), `the manager imports ${b}, which is not a production dependency`);
      const clean = { ...process.env };
      delete clean.WVA_COMMIT;
      const v = run(process.execPath, [join(app, "dist/src/cli/manager.js"), "--version"], {
        cwd: "/",
        env: clean,
      });
      assert.equal(v.status, 0, v.stderr);
      assert.match(
        v.stdout.trim(),
        /^workload-variant-autoscaler v9\.8\.7-rc\.1 \(commit 0123456789ab, built 2026-01-02T03:04:05Z, node v\d+\.\d+\.\d+\)$/,
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
