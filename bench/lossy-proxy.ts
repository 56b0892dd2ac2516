// A lossy HTTP proxy between executors and the control plane: a seeded share of requests is
// dropped (the socket closed before forwarding) or delayed, and a share of responses is dropped
// (forwarded, then the client's socket closed unanswered) or delayed. The Host header is kept,
// so a request's signature over its target URI still holds.
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { seededRandom } from "../executor/src/demo/faults";

export interface LossyProxy {
  url: string;
  counts: {
    requests: number;
    dropped_requests: number;
    delayed_requests: number;
    dropped_responses: number;
    delayed_responses: number;
  };
  close(): Promise<void>;
}

export function startLossyProxy(
  target: string,
  opts: { faultRate: number; maxDelayMs: number; seed: number },
): Promise<LossyProxy> {
  const random = seededRandom(opts.seed);
  const upstream = new URL(target);
  const counts = {
    requests: 0,
    dropped_requests: 0,
    delayed_requests: 0,
    dropped_responses: 0,
    delayed_responses: 0,
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      counts.requests++;
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const reqFault = random() < opts.faultRate ? (random() < 0.5 ? "drop" : "delay") : null;
      const resFault = random() < opts.faultRate ? (random() < 0.5 ? "drop" : "delay") : null;
      if (reqFault === "drop") {
        counts.dropped_requests++;
        req.socket.destroy();
        return;
      }
      if (reqFault === "delay") {
        counts.delayed_requests++;
        await sleep(random() * opts.maxDelayMs);
      }
      const up = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (c: Buffer) => parts.push(c));
          answer.on("end", () => {
            void (async () => {
              if (resFault === "drop") {
                counts.dropped_responses++;
                res.socket?.destroy();
                return;
              }
              if (resFault === "delay") {
                counts.delayed_responses++;
                await sleep(random() * opts.maxDelayMs);
              }
              const headers = { ...answer.headers };
              delete headers["transfer-encoding"];
              res.writeHead(answer.statusCode ?? 502, {
                ...headers,
                "content-length": Buffer.concat(parts).length,
              });
              res.end(Buffer.concat(parts));
            })();
          });
        },
      );
      up.on("error", () => res.socket?.destroy());
      up.end(body);
    })();
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        counts,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
