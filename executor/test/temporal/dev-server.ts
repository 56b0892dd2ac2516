// A real Temporal server for the integration tests: `temporal server start-dev --headless` on a
// free loopback port, its database in a temp directory, stopped (or restarted on the same port
// and database) by the test that started it. The CLI is built from its Go module by .ci/run; a
// missing binary fails the test that needs it, saying how to build it.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePort } from "../../src/local/control-plane";

/** The Temporal CLI release the tests are run with (the newest `go install` accepts; see README). */
export const TEMPORAL_CLI_VERSION = "v1.5.1";
export const TEMPORAL_CLI_INSTALL = `go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

/** Where `go install` puts the binary: $GOBIN, else the first $GOPATH entry's bin, else ~/go/bin. */
function goBin(): string {
  if (process.env.GOBIN) return process.env.GOBIN;
  const gopath = process.env.GOPATH?.split(delimiter)[0];
  return join(gopath || join(homedir(), "go"), "bin");
}

/** The Temporal CLI to run: $MTOR_TEMPORAL_CLI, or `temporal` where `go install` puts it. */
export function temporalCli(): string {
  const path = process.env.MTOR_TEMPORAL_CLI || join(goBin(), "temporal");
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `The Temporal integration tests need the Temporal CLI, and ${path} is not an executable. ` +
        `Build it with \`${TEMPORAL_CLI_INSTALL}\` (it lands in $(go env GOPATH)/bin; .ci/run does this), ` +
        "or set MTOR_TEMPORAL_CLI to a temporal binary.",
    );
  }
  return path;
}

export interface DevServer {
  /** host:port of the frontend, for NativeConnection / Connection / the executor's config. */
  address: string;
  /** The server's SQLite database (kept across restart()). */
  dbFile: string;
  /** Stops the server; its database stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and database. */
  start(): Promise<void>;
  /** Stops it and removes its database. */
  close(): Promise<void>;
  /** The server's output so far (for failure messages). */
  output(): string;
}

export async function startDevServer(): Promise<DevServer> {
  const cli = temporalCli();
  const dir = mkdtempSync(join(tmpdir(), "mtor-temporal-server-"));
  const dbFile = join(dir, "temporal.sqlite");
  const port = await freePort();
  let child: ChildProcess | undefined;
  let out = "";

  const start = async () => {
    out = "";
    const c = spawn(
      cli,
      [
        "server",
        "start-dev",
        "--headless",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--db-filename",
        dbFile,
        "--log-level",
        "error",
      ],
      // Its own process group, so stop() takes every process it started.
      { detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    child = c;
    const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    // It prints its address once the frontend is serving.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`temporal server did not start within 60 s:\n${out.slice(-3000)}`)),
        60_000,
      );
      const onData = (b: Buffer) => {
        out += b.toString();
        if (/Server:\s+\S+:\d+/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      c.stdout?.on("data", onData);
      c.stderr?.on("data", onData);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`temporal server exited at start (code ${c.exitCode}):\n${out.slice(-3000)}`));
      });
    });
  };

  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
    const gone = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    try {
      process.kill(-c.pid, "SIGTERM");
    } catch {
      return;
    }
    const killer = setTimeout(() => {
      try {
        if (c.pid !== undefined) process.kill(-c.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }, 10_000);
    await gone;
    clearTimeout(killer);
  };

  // A test process that dies without its afterAll must not leave a server behind.
  const onExit = () => {
    if (child?.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  };
  process.once("exit", onExit);

  await start();
  return {
    address: `127.0.0.1:${port}`,
    dbFile,
    stop,
    start,
    async close() {
      await stop();
      process.off("exit", onExit);
      rmSync(dir, { recursive: true, force: true });
    },
    output: () => out,
  };
}
