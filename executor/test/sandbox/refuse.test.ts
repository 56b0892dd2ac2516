// `mtor executor` on a box where the sandbox cannot start: it refuses, naming the fix, unless the
// config says sandbox = "none", which it then warns about on every run.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/local/control-plane";

const root = mkdtempSync(join(tmpdir(), "mtor-refuse-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A PATH with node and git but no bwrap: what a box without bubblewrap looks like.
const bin = join(root, "bin");
mkdirSync(bin);
symlinkSync(process.execPath, join(bin, "node"));
symlinkSync("/usr/bin/git", join(bin, "git"));

function config(extra: string): string {
  const file = join(root, `executor-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(
    file,
    `${extra}\ncontrol_plane = "http://127.0.0.1:9"\nid = "refuse"\nworkdir = "${join(root, "work")}"\n\n[repos.r]\nurl = "${join(root, "origin.git")}"\n\n[providers.p]\nbase_url = "http://127.0.0.1:9"\ntoken_env = "P_TOKEN"\nmodel = "m"\n`,
  );
  return file;
}

function executor(file: string, timeoutMs: number) {
  return new Promise<{ code: number | null; out: string }>((done) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, "executor", "bin", "mtor.js"), "executor", "--config", file],
      {
        env: { PATH: bin, HOME: root, MTOR_EXECUTOR_SECRET: "s", P_TOKEN: "t" },
        timeout: timeoutMs,
        killSignal: "SIGKILL",
      },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

describe("an executor without bubblewrap", () => {
  it('refuses to start with sandbox = "bwrap" (the default), naming the fix', async () => {
    const r = await executor(config(""), 30_000);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/sandbox = "bwrap" cannot start/);
    expect(r.out).toMatch(/apt-get install bubblewrap/);
    expect(r.out).toMatch(/sandbox = "none"/);
    expect(r.out).not.toMatch(/\n\s+at /);
  });

  it('starts with sandbox = "none", saying what that gives up', async () => {
    // It gets as far as its first claim (the control plane is not there) and is stopped there.
    const r = await executor(config('sandbox = "none"'), 8_000);
    expect(r.out).toMatch(/WARNING: sandbox = "none"/);
    expect(r.out).toMatch(/executor refuse →/);
  });
});
