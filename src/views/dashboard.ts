import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Cycle, Report, ReportHeader } from "../playground/runner/report.js";
import { renderPage } from "./page.js";

/**
 * The playground's live dashboard: an HTTP server on loopback serving the page at `/` and the trial as
 * Server-Sent Events at `/events`: `header` when the run starts, `cycle` after each engine cycle and
 * `end` with the report when the trial ends. A client that connects late gets everything so far first.
 */
export interface Dashboard {
  url: string;
  start(header: ReportHeader): void;
  cycle(cycle: Cycle): void;
  /** Sends the final report; the page keeps it on screen after the server stops. */
  end(report: Report): void;
  close(): Promise<void>;
}

export async function startDashboard(options: { port?: number; host?: string } = {}): Promise<Dashboard> {
  const events: string[] = [];
  const clients = new Set<http.ServerResponse>();
  let header: ReportHeader | undefined;
  const publish = (event: string, data: unknown) => {
    const msg = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    events.push(msg);
    for (const c of clients) c.write(msg);
  };
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method !== "GET") {
      res.writeHead(405, { allow: "GET" }).end();
    } else if (path === "/") {
      const title = header ? `WVA playground: ${header.scenario} (live)` : "WVA playground (live)";
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
        .end(renderPage(title, { mode: "live", ...(header ? { header } : {}) }));
    } else if (path === "/events") {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      res.write(": WVA playground\n\n");
      for (const e of events) res.write(e);
      clients.add(res);
      req.on("close", () => clients.delete(res));
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
  return {
    url: `http://${host}:${a.port}/`,
    start(h) {
      header = h;
      events.length = 0;
      publish("header", h);
    },
    cycle: (c) => publish("cycle", c),
    end: (report) => publish("end", report),
    async close() {
      // end the event streams so the last events reach the pages, then drop what is left after 1 s
      for (const c of clients) c.end();
      clients.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 1000);
      await closed;
      clearTimeout(force);
    },
  };
}
