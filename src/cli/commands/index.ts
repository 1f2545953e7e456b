import type { Command } from "commander";
import { register as playground } from "./playground.js";

/** Each subcommand module registers itself on the `wva` program here, one line per module. */
export const commandModules: Array<(program: Command) => void> = [playground];
