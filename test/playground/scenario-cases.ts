/** A valid scenario document and a list of invalid variations with the field each must name. */
export function validDoc(): Record<string, unknown> {
  return {
    name: "t",
    engineInterval: "2s",
    actuation: "hpa",
    hpa: { stabilizationWindow: "10s", tolerance: 0.1 },
    nodes: ["2xH100:8", "1xA100:4"],
    duration: "60s",
    models: [
      {
        modelID: "m",
        namespace: "ns",
        variants: [
          {
            name: "m-a100",
            accelerator: "A100",
            cost: 20,
            gpusPerReplica: 1,
            initialReplicas: 1,
            maxReplicas: 4,
            startupDelay: "1s",
            emulator: { maxBatch: 8 },
          },
          { name: "m-h100", accelerator: "H100", cost: 40 },
        ],
        load: {
          tokens: { input: 100, output: 50 },
          schedule: [
            { rate: 2, duration: "30s" },
            { rate: 10, duration: "30s" },
          ],
        },
      },
    ],
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Doc = any;
export interface InvalidCase {
  kind: string;
  edit: (d: Doc) => unknown;
  /** The field the one-line error must name, and a fragment of the rule. */
  field: string;
  rule: RegExp;
}

export const invalidCases: InvalidCase[] = [
  { kind: "missing required field", edit: (d) => delete d.name, field: "name", rule: /required/ },
  {
    kind: "unknown top-level field",
    edit: (d) => (d.engineIntervall = "5s"),
    field: "engineIntervall",
    rule: /unknown field/,
  },
  {
    kind: "bad enum",
    edit: (d) => (d.actuation = "keda"),
    field: "actuation",
    rule: /one of "hpa", "direct"/,
  },
  {
    kind: "malformed duration",
    edit: (d) => (d.engineInterval = "5 seconds"),
    field: "engineInterval",
    rule: /duration/,
  },
  {
    kind: "zero duration",
    edit: (d) => (d.engineInterval = "0s"),
    field: "engineInterval",
    rule: /positive/,
  },
  {
    kind: "bad node spec",
    edit: (d) => (d.nodes[1] = "A100x4"),
    field: "nodes[1]",
    rule: /COUNTxACCELERATOR:GPUS/,
  },
  {
    kind: "node with zero GPUs",
    edit: (d) => (d.nodes[0] = "2xH100:0"),
    field: "nodes[0]",
    rule: /GPUs per node/,
  },
  { kind: "no models", edit: (d) => (d.models = []), field: "models", rule: /fewer than 1/ },
  {
    kind: "variant without cost",
    edit: (d) => delete d.models[0].variants[1].cost,
    field: "models[0].variants[1].cost",
    rule: /required/,
  },
  {
    kind: "negative cost",
    edit: (d) => (d.models[0].variants[0].cost = -1),
    field: "models[0].variants[0].cost",
    rule: />= 0/,
  },
  {
    kind: "wrong type",
    edit: (d) => (d.models[0].variants[0].gpusPerReplica = "two"),
    field: "models[0].variants[0].gpusPerReplica",
    rule: /^must be a number, got string$/,
  },
  {
    kind: "a fraction where a count belongs",
    edit: (d) => (d.models[0].variants[0].gpusPerReplica = 1.5),
    field: "models[0].variants[0].gpusPerReplica",
    rule: /^must be an integer, got 1\.5$/,
  },
  {
    kind: "invalid variant name",
    edit: (d) => (d.models[0].variants[0].name = "M_A100"),
    field: "models[0].variants[0].name",
    rule: /DNS label/,
  },
  {
    kind: "accelerator without nodes",
    edit: (d) => (d.models[0].variants[1].accelerator = "L4"),
    field: "models[0].variants[1].accelerator",
    rule: /no node offers accelerator L4/,
  },
  {
    kind: "replica GPUs larger than a node",
    edit: (d) => (d.models[0].variants[0].gpusPerReplica = 5),
    field: "models[0].variants[0].gpusPerReplica",
    rule: /do not fit/,
  },
  {
    kind: "initial above max",
    edit: (d) => (d.models[0].variants[0].initialReplicas = 5),
    field: "models[0].variants[0].initialReplicas",
    rule: /maxReplicas/,
  },
  {
    kind: "duplicate variant",
    edit: (d) => (d.models[0].variants[1].name = "m-a100"),
    field: "models[0].variants[1].name",
    rule: /duplicate/,
  },
  {
    kind: "unknown emulator parameter",
    edit: (d) => (d.models[0].variants[0].emulator.speed = 2),
    field: "models[0].variants[0].emulator.speed",
    rule: /unknown field/,
  },
  {
    kind: "load without schedule or trace",
    edit: (d) => delete d.models[0].load.schedule,
    field: "models[0].load",
    rule: /schedule or trace/,
  },
  {
    kind: "load with schedule and trace",
    edit: (d) => (d.models[0].load.trace = { file: "x.csv" }),
    field: "models[0].load",
    rule: /mutually exclusive/,
  },
  {
    kind: "missing trace file",
    edit: (d) => {
      delete d.models[0].load.schedule;
      d.models[0].load.trace = { file: "no-such.csv" };
    },
    field: "models[0].load.trace.file",
    rule: /not found/,
  },
  {
    kind: "negative rate",
    edit: (d) => (d.models[0].load.schedule[1].rate = -3),
    field: "models[0].load.schedule[1].rate",
    rule: />= 0/,
  },
  {
    kind: "tolerance out of range",
    edit: (d) => (d.hpa.tolerance = 2),
    field: "hpa.tolerance",
    rule: /<= 1/,
  },
  {
    kind: "saturation threshold out of range",
    edit: (d) => (d.saturation = { kvCacheThreshold: 1.5 }),
    field: "saturation.kvCacheThreshold",
    rule: /<= 1/,
  },
  {
    kind: "spare trigger above the KV threshold",
    edit: (d) => (d.saturation = { kvCacheThreshold: 0.5, kvSpareTrigger: 0.6 }),
    field: "saturation.kvSpareTrigger",
    rule: /must be >= kvSpareTrigger/,
  },
  {
    kind: "initial replicas beyond GPU budget",
    edit: (d) => (
      (d.models[0].variants[0].initialReplicas = 4),
      (d.models[0].variants[0].gpusPerReplica = 2)
    ),
    field: "nodes",
    rule: /need 8 A100 GPUs but the nodes offer 4/,
  },
  {
    kind: "absurd token count",
    edit: (d) => (d.models[0].load.tokens.input = 1e15),
    field: "models[0].load.tokens.input",
    rule: /<= 1000000/,
  },
  {
    kind: "tokens larger than the KV cache",
    edit: (d) => (d.models[0].load.tokens.input = 40_000),
    field: "models[0].load.tokens",
    rule: /smallest KV cache/,
  },
  {
    kind: "absurd rate",
    edit: (d) => (d.models[0].load.schedule[0].rate = 1e12),
    field: "models[0].load.schedule[0].rate",
    rule: /<= 10000/,
  },
  {
    kind: "too many requests in total",
    edit: (d) => {
      d.duration = "168h";
      d.models[0].load.schedule = [{ rate: 10_000, duration: "168h" }];
    },
    field: "models[0].load.schedule",
    rule: /more than the 20000000/,
  },
  {
    kind: "engine interval beyond its bound",
    edit: (d) => (d.engineInterval = "999h"),
    field: "engineInterval",
    rule: /at most 10m/,
  },
  {
    kind: "startup delay beyond its bound",
    edit: (d) => (d.models[0].variants[0].startupDelay = "999h"),
    field: "models[0].variants[0].startupDelay",
    rule: /at most 1h/,
  },
  {
    kind: "router timeout that is not a duration",
    edit: (d) => (d.routerTimeout = "soon"),
    field: "routerTimeout",
    rule: /duration/,
  },
  {
    kind: "zero router timeout",
    edit: (d) => (d.routerTimeout = "0s"),
    field: "routerTimeout",
    rule: /positive/,
  },
  {
    kind: "SLO without ITL",
    edit: (d) => (d.models[0].slo = { ttftMs: 500 }),
    field: "models[0].slo.itlMs",
    rule: /required/,
  },
  {
    kind: "SLO with a zero TTFT",
    edit: (d) => (d.models[0].slo = { ttftMs: 0, itlMs: 50 }),
    field: "models[0].slo.ttftMs",
    rule: />= 1/,
  },
  {
    kind: "SLO with an unknown field",
    edit: (d) => (d.models[0].slo = { ttftMs: 100, itlMs: 50, e2eMs: 9 }),
    field: "models[0].slo.e2eMs",
    rule: /unknown field/,
  },
  {
    kind: "baseline KV target above 1",
    edit: (d) => (d.baselines = { hpaKvTarget: 70 }),
    field: "baselines.hpaKvTarget",
    rule: /<= 1/,
  },
  {
    kind: "oracle attainment target given as a percentage",
    edit: (d) => (d.baselines = { oracleAttainment: 99 }),
    field: "baselines.oracleAttainment",
    rule: /<= 1/,
  },
];
