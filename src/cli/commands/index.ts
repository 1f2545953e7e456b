import type { Command } from "commander";
import { register as cluster } from "./cluster.js";

/** Each subcommand module registers itself on the `wva` program here, one line per module. */
export const commandModules: Array<(program: Command) => void> = [cluster];
