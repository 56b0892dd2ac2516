// `npm run dev` (`mtor dev`): the control plane alone, with the cron ticker `mtor up` has, so
// `GET /v1/status` shows monitor passes going by; Ctrl-C stops it, leaving no process behind.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { freePort, REPO_ROOT } from "../../src/local/control-plane";
import { afterInterrupt, interruptGroup, trackTree } from "./processes";

it("mtor dev runs monitor passes on its own and stops cleanly on SIGINT", { timeout: 240_000 }, async () => {
  const state = mkdtempSync(join(tmpdir(), "mtor-dev-"));
  const port = await freePort();
  const token = "dev-test-read-token";
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, "executor", "bin", "mtor.js"),
      "dev",
      "--port",
      String(port),
      "--tick",
      "1",
      "--persist-to",
      state,
      "--var",
      `OPERATOR_TOKENS:test:${token}:read`,
    ],
    { cwd: REPO_ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  const tree = trackTree(child.pid as number);
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (c) => done(c)));

  const status = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/status`, {
      headers: { authorization: `Bearer ${token}` },
    }).catch(() => undefined);
    return res?.ok
      ? ((await res.json()) as { monitor: { id: number } | null; monitor_hint?: string })
      : undefined;
  };
  try {
    // Two different passes seen: the ticker keeps going, nobody fired the cron by hand.
    const ids = new Set<number>();
    const deadline = Date.now() + 150_000;
    while (ids.size < 2) {
      if (child.exitCode !== null) throw new Error(`mtor dev exited early:\n${out}`);
      if (Date.now() > deadline) throw new Error(`no two monitor passes seen:\n${out}`);
      const s = await status();
      if (s?.monitor) {
        ids.add(s.monitor.id);
        expect(s.monitor_hint).toBeUndefined();
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(out).toContain(`mtor dev: control plane on http://127.0.0.1:${port}`);
  } finally {
    interruptGroup(child.pid);
  }
  const { code, left } = await afterInterrupt(exited, tree);
  expect(code, out).toBe(0);
  expect(out).toContain("mtor dev: stopped.");
  expect(left).toEqual([]);
  rmSync(state, { recursive: true, force: true });
});
