// The executor's git never runs what a workspace plants: hooks, fsmonitor, sshCommand, or
// GIT_CONFIG_* left in its own environment. Only the agent's objects cross into the mirror.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createWorkspace, lsRemote, pushSha, revParse, syncMirror, takeWork } from "../../src/git";
import { gitIn } from "../git-cli";

const root = mkdtempSync(join(tmpdir(), "mtor-git-ws-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sh = gitIn;

describe("workspace and mirror", () => {
  it("takes the agent's commits and pushes the gated sha without running anything it planted", async () => {
    const seed = join(root, "seed");
    const origin = join(root, "origin.git");
    mkdirSync(seed);
    sh(seed, "init", "-q", "-b", "main");
    writeFileSync(join(seed, "a.txt"), "a\n");
    sh(seed, "add", "-A");
    sh(seed, "commit", "-q", "-m", "initial");
    sh(root, "clone", "-q", "--bare", seed, origin);

    const mirror = join(root, "mirror.git");
    await syncMirror(mirror, origin);
    const base = await revParse(mirror, "refs/remotes/origin/main");
    const ws = join(root, "run", "ws");
    await createWorkspace(mirror, ws, "mtor/s1-1", base);
    // The workspace knows nothing of the mirror: no remote, no alternates.
    expect(sh(ws, "remote")).toBe("");
    expect(existsSync(join(ws, ".git", "objects", "info", "alternates"))).toBe(false);

    // The agent plants everything it can in its repository.
    const ran = join(root, "planted-ran");
    const hook = `#!/bin/sh\necho "$0" >> ${ran}\n`;
    mkdirSync(join(ws, ".git", "hooks"), { recursive: true });
    for (const name of [
      "reference-transaction",
      "post-checkout",
      "pre-push",
      "post-merge",
      "pre-auto-gc",
      "post-update",
    ]) {
      writeFileSync(join(ws, ".git", "hooks", name), hook);
      chmodSync(join(ws, ".git", "hooks", name), 0o755);
    }
    const fsmonitor = join(root, "fsmonitor.sh");
    writeFileSync(fsmonitor, hook);
    chmodSync(fsmonitor, 0o755);
    sh(ws, "config", "core.fsmonitor", fsmonitor);
    sh(ws, "config", "core.sshCommand", fsmonitor);
    sh(ws, "config", "uploadpack.packObjectsHook", fsmonitor);
    writeFileSync(join(ws, "b.txt"), "b\n");
    sh(ws, "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "add", "b.txt");
    sh(
      ws,
      "-c",
      "core.hooksPath=/dev/null",
      "-c",
      "core.fsmonitor=false",
      "commit",
      "-q",
      "-m",
      "agent work",
    );
    const agentSha = sh(ws, "rev-parse", "HEAD");
    if (existsSync(ran)) rmSync(ran);

    // A parent's GIT_CONFIG_* must not reach the executor's git either.
    process.env.GIT_CONFIG_COUNT = "1";
    process.env.GIT_CONFIG_KEY_0 = "core.hooksPath";
    process.env.GIT_CONFIG_VALUE_0 = join(ws, ".git", "hooks");
    try {
      const before = await lsRemote(mirror, origin);
      const taken = await takeWork(mirror, ws, "mtor/s1-1", "refs/mtor-runs/s1-1");
      expect(taken).toBe(agentSha);
      // The agent moves its branch after the gates saw it: the push still sends the gated sha.
      writeFileSync(join(ws, "late.txt"), "late\n");
      sh(ws, "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "add", "late.txt");
      sh(ws, "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "commit", "-q", "-m", "late");
      await pushSha(mirror, origin, taken as string, "mtor/s1-1");
      const after = await lsRemote(mirror, origin);
      expect(after["refs/heads/mtor/s1-1"]).toBe(agentSha);
      expect(after["refs/heads/main"]).toBe(before["refs/heads/main"]);
      // The next run of the same repo: a fresh workspace from the same mirror.
      await syncMirror(mirror, origin);
      await createWorkspace(mirror, join(root, "run2", "ws"), "mtor/s2-1", base);
    } finally {
      delete process.env.GIT_CONFIG_COUNT;
      delete process.env.GIT_CONFIG_KEY_0;
      delete process.env.GIT_CONFIG_VALUE_0;
    }
    expect(existsSync(ran)).toBe(false);
  });

  it("says when the workspace no longer has the run's branch", async () => {
    const mirror = join(root, "mirror.git");
    const base = await revParse(mirror, "refs/remotes/origin/main");
    const ws = join(root, "run3", "ws");
    await createWorkspace(mirror, ws, "mtor/s3-1", base);
    sh(ws, "checkout", "-q", "--detach");
    sh(ws, "branch", "-q", "-D", "mtor/s3-1");
    expect(await takeWork(mirror, ws, "mtor/s3-1", "refs/mtor-runs/s3-1")).toBeUndefined();
  });
});
