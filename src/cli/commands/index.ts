import type { Command } from "commander";
import { register as cluster } from "./cluster.js";
import { register as completion } from "./completion.js";
import { register as decide } from "./decide.js";
import { register as emulate } from "./emulate.js";
import { register as load } from "./load.js";
import { register as playground } from "./playground.js";
import { register as report } from "./report.js";
import { register as simulate } from "./simulate.js";
import { register as snapshot } from "./snapshot.js";

/** Each subcommand module registers itself on the `wva` program here, one line per module. */
export const commandModules: Array<(program: Command) => void> = [
  decide,
  snapshot,
  emulate,
  load,
  cluster,
  playground,
  report,
  simulate,
  completion,
];
