import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A scrape target in front of a metrics endpoint that can be taken down: while down it resets every
 * connection, as a pod that became unreachable would.
 */
export interface FlakyTarget {
  /** host:port for a Prometheus static config. */
  hostPort: string;
  url: string;
  down: boolean;
  close(): Promise<void>;
}

export async function flakyTarget(upstream: string): Promise<FlakyTarget> {
  const state = { down: false };
  const server = http.createServer((req, res) => {
    if (state.down) {
      req.socket.destroy();
      return;
    }
    fetch(new URL(req.url ?? "/", upstream))
      .then(async (r) => {
        res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "text/plain" });
        res.end(await r.text());
      })
      .catch(() => req.socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const hostPort = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    hostPort,
    url: `http://${hostPort}`,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
