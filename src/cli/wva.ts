#!/usr/bin/env node
import { commandModules } from "./commands/index.js";
import { newProgram, printVersionIfAsked, runProgram } from "./program.js";

const program = newProgram(
  "wva",
  "Workload Variant Autoscaler: cost-aware autoscaling of LLM inference variants",
);
program
  .argument("[command]")
  .action((command: string | undefined, opts: { version?: boolean; json?: boolean }) => {
    if (printVersionIfAsked(opts)) return;
    if (command !== undefined) program.error(`error: unknown command '${command}'`, { exitCode: 2 });
    program.outputHelp();
  });
for (const register of commandModules) register(program);

await runProgram(program);
