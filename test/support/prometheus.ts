import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export interface StaticTarget {
  /** host:port */
  target: string;
  labels?: Record<string, string>;
}

export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
  logs(): string;
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * Starts the real Prometheus binary on a free loopback port with a temporary data directory, scraping the
 * given static targets (each with its own target labels) every `scrapeIntervalSec`. Waits until /-/ready.
 */
export async function startPrometheus(
  bin: string,
  targets: StaticTarget[],
  opts: { scrapeIntervalSec?: number; readyTimeoutMs?: number; ruleFiles?: string[] } = {},
): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "wva-prom-"));
  const interval = `${opts.scrapeIntervalSec ?? 1}s`;
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval },
    ...(opts.ruleFiles ? { rule_files: opts.ruleFiles } : {}),
    scrape_configs: [
      {
        job_name: "vllm",
        scrape_interval: interval,
        scrape_timeout: interval,
        static_configs: targets.map((t) => ({ targets: [t.target], labels: t.labels ?? {} })),
      },
    ],
  };
  writeFileSync(join(dir, "prometheus.yml"), stringify(config));
  const port = await freePort();
  let output = "";
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=1h",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  let exited = false;
  child.on("exit", () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      const done = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await done;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`prometheus exited during start-up: ${output.slice(-2000)}`);
    }
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `prometheus not ready after ${opts.readyTimeoutMs ?? 30_000} ms: ${output.slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop, logs: () => output };
}

/** Runs an instant query and returns the raw vector result. */
export async function promQuery(
  url: string,
  query: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await r.json()) as {
    data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  return body.data?.result ?? [];
}
