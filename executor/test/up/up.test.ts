// `mtor up`: the local stack comes up with a dashboard, a generated token saved for the CLI and
// a running executor, and Ctrl-C (SIGINT) stops everything, leaving no process behind.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { freePort, REPO_ROOT } from "../../src/local/control-plane";
import { mtor } from "../cli/harness";
import { afterInterrupt, descendants, interruptGroup, trackTree } from "./processes";

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

it("mtor up serves the dashboard and stops cleanly on SIGINT", { timeout: 240_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), "mtor-up-home-"));
  const stateDir = join(home, "dot-mtor");
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, "executor", "bin", "mtor.js"),
      "up",
      "--port",
      String(port),
      "--state-dir",
      stateDir,
      // The phone path: every interface, and links that point where a phone reaches the stack.
      "--host",
      "0.0.0.0",
      "--public-url",
      `http://phone.test:${port}`,
    ],
    {
      cwd: REPO_ROOT,
      // Its own process group, like a shell job: Ctrl-C reaches the whole group.
      detached: true,
      env: {
        ...process.env,
        HOME: home,
        MTOR_URL: "",
        MTOR_TOKEN: "",
        ZHIPU_API_KEY: "",
        ANTHROPIC_API_KEY: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const tree = trackTree(child.pid as number);
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (c) => done(c)));

  try {
    await until(
      "the banner",
      () => {
        if (child.exitCode !== null) throw new Error(`mtor up exited early:\n${out}`);
        return out.includes("Ctrl-C stops everything") ? true : undefined;
      },
      120_000,
    );
    const url = `http://127.0.0.1:${port}`;
    expect(out).toContain(`dashboard: ${url}/`);
    expect(out).toContain("PROVIDER: demo — the built-in SCRIPTED model, NOT a real LLM.");

    // The generated token is printed, persisted in the state dir and saved for the CLI.
    const secrets = JSON.parse(readFileSync(join(stateDir, "secrets.json"), "utf8")) as {
      operatorToken: string;
    };
    expect(out).toContain(`token:     ${secrets.operatorToken}`);
    const userConfig = readFileSync(join(home, ".config", "mtor", "config.toml"), "utf8");
    expect(userConfig).toContain(`url = "${url}"`);
    expect(userConfig).toContain(`token = "${secrets.operatorToken}"`);
    expect(readFileSync(join(stateDir, "executor.toml"), "utf8")).toMatch(/\[providers\.demo\]/);
    expect(existsSync(join(stateDir, "repos", "sandbox", "HEAD"))).toBe(true);

    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    // --host 0.0.0.0: workerd listens on every interface, not only loopback.
    const portHex = port.toString(16).toUpperCase().padStart(4, "0");
    const listening = readFileSync("/proc/net/tcp", "utf8")
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[1] === `00000000:${portHex}` && f[3] === "0A");
    expect(listening.length, "a listener on 0.0.0.0").toBeGreaterThan(0);
    expect(out).toContain(`phone:     http://phone.test:${port}/`);

    // --public-url: a webhook created through loopback still links to the public URL.
    const hook = await fetch(`${url}/v1/webhooks`, {
      method: "POST",
      headers: { authorization: `Bearer ${secrets.operatorToken}`, "content-type": "application/json" },
      body: JSON.stringify({ url: "https://ntfy.sh/mtor-up-test", format: "ntfy" }),
    });
    expect(hook.status).toBe(201);
    expect(((await hook.json()) as { links_base: string }).links_base).toBe(`http://phone.test:${port}`);

    // `mtor token --role read` prints a token this control plane accepts, for reading only.
    const read = await mtor(["token", "--role", "read", "--state-dir", stateDir]);
    expect(read.code).toBe(0);
    const asReader = { authorization: `Bearer ${read.stdout.trim()}` };
    expect((await fetch(`${url}/v1/specs`, { headers: asReader })).status).toBe(200);
    expect((await fetch(`${url}/v1/freeze`, { method: "POST", headers: asReader })).status).toBe(403);
    const dash = await fetch(`${url}/`, { redirect: "manual" });
    expect(dash.status).toBe(303);
    expect(dash.headers.get("location")).toMatch(/^\/login/);

    // The CLI needs no flags: ~/.config/mtor/config.toml points at this stack. The executor checks in.
    await until(
      "the executor to check in",
      async () => {
        const r = await mtor(["executors", "--json"], { env: { HOME: home } });
        return r.code === 0 && r.stdout.includes('"id": "local"') ? true : undefined;
      },
      60_000,
    );
    // wrangler, workerd and the executor at least, all below `mtor up`.
    const running = [...descendants(child.pid as number).values()];
    expect(running.some((c) => c.includes("wrangler"))).toBe(true);
    expect(running.some((c) => c.includes("executor --config"))).toBe(true);
  } finally {
    interruptGroup(child.pid);
  }
  const { code, left } = await afterInterrupt(exited, tree);
  expect(code, out).toBe(0);
  expect(out).toContain("mtor up: stopped.");
  expect(left).toEqual([]);
  rmSync(home, { recursive: true, force: true });
});
