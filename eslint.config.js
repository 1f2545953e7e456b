import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Import boundaries (docs/architecture.md). Decision code is pure: no I/O, no Kubernetes, no HTTP, and
// nothing from the layers that do I/O. The vocabulary at the bottom imports nothing; each stage imports
// only the vocabulary (and pure helpers in src/util), never another stage; the pipeline composes them.
const IO_MODULES = [
  "fs",
  "fs/promises",
  "http",
  "https",
  "http2",
  "net",
  "tls",
  "dgram",
  "dns",
  "child_process",
  "worker_threads",
  "cluster",
].flatMap((m) => [m, `node:${m}`]);
const NO_IO = {
  paths: [
    ...IO_MODULES.map((name) => ({ name, message: "decision code is pure: no I/O" })),
    { name: "@kubernetes/client-node", message: "decision code is pure: no Kubernetes" },
  ],
  patterns: [
    {
      regex: "(^|/)(collect|controller|playground|cli|actuate|config|api)(/|$)",
      message: "decision code is pure: it does not import the layers that do I/O or read configuration",
    },
  ],
};
const STAGES = ["analyze", "optimize", "limit", "enforce"];
const STAGE_MESSAGE =
  "a stage imports only the vocabulary (src/types/decision.ts), never another stage's code nor the pipeline";

/**
 * The import rule of the decision code in one stage (or the pipeline): no I/O layers, no pipeline, and of
 * the other stages (`others`, a regex alternative) at most their types — the output type of an analyzer
 * is the input of its optimizer; code never crosses.
 */
function decisionRule(others) {
  return [
    "error",
    {
      paths: NO_IO.paths,
      patterns: [
        ...NO_IO.patterns,
        ...(others === undefined
          ? []
          : [
              { regex: "(^|/)engine/", message: STAGE_MESSAGE },
              { regex: `(^|/)(${others})`, message: STAGE_MESSAGE, allowTypeImports: true },
            ]),
      ],
    },
  ];
}

/** The rule as configuration entries (the TypeScript-aware rule replaces the base one). */
function restrict(files, rule) {
  return {
    files,
    rules: { "no-restricted-imports": "off", "@typescript-eslint/no-restricted-imports": rule },
  };
}

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", ".tools/**", "bin/**", "charts/**/templates/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        URL: "readonly",
        Buffer: "readonly",
        AbortController: "readonly",
        fetch: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  // stages: the vocabulary only, never another stage's code nor the pipeline
  ...STAGES.map((stage) =>
    restrict([`src/${stage}/**/*.ts`], decisionRule(`(${STAGES.filter((s) => s !== stage).join("|")})/`)),
  ),
  // One exception: the model-based optimizer sizes allocations with the queueing model that lives with
  // its analyzer (src/analyze/queueing-model/); nothing else of another stage.
  restrict(["src/optimize/allocation/**/*.ts"], decisionRule("(limit|enforce)/|analyze/(?!queueing-model/)")),
  // the pipeline composes the stages; it does no I/O either
  restrict(["src/engine/**/*.ts"], decisionRule(undefined)),
  // the vocabulary at the bottom imports nothing
  {
    files: ["src/types/decision.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: ".*", message: "the decision vocabulary imports nothing" }] },
      ],
    },
  },
  // the controller never depends on the playground
  {
    files: ["src/controller/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "(^|/)playground(/|$)", message: "the controller never imports the playground" },
          ],
        },
      ],
    },
  },
  {
    // the views' browser script (uPlot is inlined before it)
    files: ["src/views/client/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: {
        window: "readonly",
        document: "readonly",
        devicePixelRatio: "readonly",
        EventSource: "readonly",
        ResizeObserver: "readonly",
        uPlot: "readonly",
      },
    },
  },
);
