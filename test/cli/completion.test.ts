// `wva completion bash`: the script, sourced in a real bash, completes subcommands and their options.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runWva } from "../support/cli.js";

describe("wva completion", () => {
  const dir = mkdtempSync(join(tmpdir(), "wva-completion-"));
  const script = join(dir, "wva.bash");
  before(async () => {
    const r = await runWva("completion", "bash");
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(script, r.stdout);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Sources the script in bash and asks for the completions of a command line (cursor at its end). */
  function complete(line: string): string[] {
    const r = spawnSync(
      "bash",
      [
        "-c",
        'source "$1"; read -ra COMP_WORDS <<< "$2"; [[ "$2" == *" " ]] && COMP_WORDS+=(""); ' +
          'COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _wva_completion; printf "%s\\n" "${COMPREPLY[@]}"',
        "_",
        script,
        line,
      ],
      { encoding: "utf8", cwd: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split("\n").filter((l) => l !== "");
  }

  it("completes subcommand names, nested subcommands and choices of an argument", () => {
    assert.deepEqual(complete("wva sn"), ["snapshot"]);
    assert.deepEqual(complete("wva cluster "), ["up", "--help"]);
    assert.deepEqual(complete("wva completion "), ["bash", "zsh", "--help"]);
    assert.ok(complete("wva ").includes("playground"));
  });

  it("completes the options of a subcommand, skipping option values on the way", () => {
    assert.deepEqual(complete("wva snapshot --kub"), ["--kubeconfig"]);
    assert.deepEqual(complete("wva emulate vllm --model m --po"), ["--port", "--pod"]);
    assert.deepEqual(complete("wva playground --scenario cluster --dur"), ["--duration"]);
    assert.deepEqual(complete("wva decide --"), ["--help", "--file"]);
  });

  it("completes file names after an option that takes a value", () => {
    writeFileSync(join(dir, "snap-1.yaml"), "");
    assert.deepEqual(complete("wva decide -f snap"), ["snap-1.yaml"]);
  });

  it("zsh gets the same completions through bashcompinit; an unknown shell exits 2", async () => {
    const zsh = await runWva("completion", "zsh");
    assert.equal(zsh.code, 0);
    assert.match(zsh.stdout, /^#compdef wva\n/);
    assert.match(zsh.stdout, /bashcompinit/);
    assert.match(zsh.stdout, /complete -o default -F _wva_completion wva/);
    const bad = await runWva("completion", "fish");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /'fish' is invalid for argument 'shell'/);
  });
});
