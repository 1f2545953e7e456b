#!/usr/bin/env node
import { newProgram, printVersionIfAsked, runProgram } from "./program.js";

const program = newProgram("manager", "WVA controller manager");
program.action((opts: { version?: boolean; json?: boolean }) => {
  if (printVersionIfAsked(opts)) return;
  program.error("error: the controller manager is not wired yet; see --help", { exitCode: 2 });
});

await runProgram(program);
