// A throwaway redis-server on a free loopback port for the BullMQ reference (installed with
// apt-get when missing); stopped at cleanup.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../executor/src/local/control-plane";
import { onCleanup, sleep } from "./lib";

export interface LocalRedis {
  port: number;
  stop(): Promise<void>;
}

function redisBinary(): string {
  for (const p of ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]) if (existsSync(p)) return p;
  console.log("bench: installing redis-server with apt-get");
  try {
    execFileSync("apt-get", ["install", "-y", "-q", "redis-server"], { stdio: "ignore" });
  } catch {
    execFileSync("apt-get", ["update", "-q"], { stdio: "ignore" });
    execFileSync("apt-get", ["install", "-y", "-q", "redis-server"], { stdio: "ignore" });
  }
  return "/usr/bin/redis-server";
}

export async function startRedis(): Promise<LocalRedis> {
  const bin = redisBinary();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "mtor-bench-redis-"));
  const child: ChildProcess = spawn(
    bin,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "no",
    ],
    { stdio: "ignore", detached: true },
  );
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-(child.pid as number), "SIGTERM");
    } catch {
      // Gone.
    }
    await Promise.race([exited, sleep(5000)]);
    try {
      process.kill(-(child.pid as number), "SIGKILL");
    } catch {
      // Gone.
    }
  };
  onCleanup(stop);
  const { createConnection } = await import("node:net");
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: "127.0.0.1" }, () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return { port, stop };
    await sleep(100);
  }
  await stop();
  throw new Error("redis-server did not start");
}
