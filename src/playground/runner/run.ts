import type { Writable } from "node:stream";
import type { Scenario } from "./scenario.js";

export interface RunOptions {
  /** Write the JSON report here at the end. */
  reportPath?: string;
  /** Also write the emulator's kubeconfig here. */
  kubeconfigPath?: string;
  /** Refresh a live table (TTY) instead of printing one line per variant and cycle. */
  table: boolean;
  out: Writable;
  /** Stops the run early (Ctrl-C is handled by runPlayground itself). */
  signal?: AbortSignal;
}

/** Runs a trial on the emulated cluster. */
export async function runPlayground(_scenario: Scenario, _options: RunOptions): Promise<void> {
  throw new Error("the playground runner is not wired to the cluster emulator yet");
}
