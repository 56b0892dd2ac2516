// The demo's `attack` script plants and writes only inside mtor's sandbox, or inside the throwaway
// tree `scope=` names: run by mistake with sandbox = "none" on a developer's box, it must not
// plant hooks in the real checkouts it finds. Its commands run here as the harness would run them,
// in a jail that looks like an unsandboxed box (pid 1 is not bwrap) but cannot write outside two
// throwaway trees, so a broken guard fails this test instead of touching the box.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Conversation, SCRIPTS, scriptTurn } from "../../src/demo/scripts";
import { createSandbox } from "../../src/sandbox";

const root = mkdtempSync(join(tmpdir(), "mtor-attack-guard-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ENV = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@t",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@t",
  GIT_CONFIG_NOSYSTEM: "1",
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "core.hooksPath=/dev/null", ...args], {
    cwd,
    encoding: "utf8",
    env: ENV,
  }).trim();

/** The attack's own shell commands (the steps after the change), as the model would send them. */
function attackCommands(params: Record<string, string>): string[] {
  const out: string[] = [];
  for (let turn = 0; turn < SCRIPTS.attack.turns; turn++) {
    const c: Conversation = {
      prompt: "Add a clamp.",
      isPreflight: false,
      turn,
      tools: ["Bash"],
      params,
      retryAfterS: 0,
    };
    const t = scriptTurn(SCRIPTS.attack, c);
    if (t.kind !== "message") continue;
    for (const block of t.content)
      if (block.type === "tool_use") {
        const command = (block.input as { command: string }).command;
        if (/attack step [2-5] done/.test(command)) out.push(command);
      }
  }
  expect(out).toHaveLength(4);
  return out;
}

/** The boot record each tree holds beside its workspace, as an executor's workdir does. */
const BOOT = "6f1c2a4e-0d3b-4c5a-9e7f-1a2b3c4d5e6f\n";

/**
 * A throwaway tree: a workspace with a commit, a bare origin, a boot record one directory up from
 * the workspace, and a second tree outside it.
 */
function trees(name: string) {
  const tree = join(root, name, "tree");
  const other = join(root, name, "other");
  const ws = join(tree, "ws");
  mkdirSync(ws, { recursive: true });
  mkdirSync(join(tree, "home"));
  writeFileSync(join(tree, "boot"), BOOT);
  git(ws, "init", "-q", "-b", "main");
  git(ws, "commit", "-q", "--allow-empty", "-m", "base");
  git(tree, "init", "-q", "--bare", "origin.git");
  mkdirSync(other, { recursive: true });
  git(other, "init", "-q", "checkout");
  return { tree, other, ws, origin: join(tree, "origin.git"), marker: join(root, name, "marker") };
}

/**
 * Runs `bash -c command` in the workspace in a jail: the whole system read-only, only the two
 * trees writable, pid 1 the shell itself (not bwrap), and everything it starts killed with it.
 */
function inJail(command: string, t: ReturnType<typeof trees>): string {
  const r = spawnSync(
    "bwrap",
    [
      "--die-with-parent",
      "--unshare-pid",
      "--as-pid-1",
      "--ro-bind",
      "/",
      "/",
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      "--tmpfs",
      "/tmp",
      "--bind",
      join(t.tree, ".."),
      join(t.tree, ".."),
      "--chdir",
      t.ws,
      "--",
      "bash",
      "-c",
      command,
    ],
    { encoding: "utf8", env: { ...ENV, HOME: join(t.tree, "home") }, timeout: 60_000 },
  );
  if (r.error) throw new Error(`bwrap could not run (install bubblewrap): ${r.error.message}`);
  return `${r.stdout}${r.stderr}`;
}

function planted(gitDir: string): boolean {
  return existsSync(join(gitDir, "hooks", "post-checkout"));
}

describe("the attack script's guard", () => {
  it("outside mtor's sandbox, with no scope, refuses every step that plants, pushes or writes", () => {
    const t = trees("unsandboxed");
    const out = attackCommands({
      origin: t.origin,
      marker: t.marker,
      outside: join(t.tree, "note"),
      nonce: "guardtest",
    }).map((cmd) => inJail(cmd, t));
    for (let n = 2; n <= 5; n++) {
      expect(out[n - 2]).toContain(`attack step ${n} refused: not inside mtor's sandbox`);
      expect(out[n - 2]).toContain(`attack step ${n} done`);
    }
    expect(planted(join(t.ws, ".git"))).toBe(false);
    expect(planted(t.origin)).toBe(false);
    expect(planted(join(t.other, "checkout", ".git"))).toBe(false);
    expect(git(t.origin, "for-each-ref")).toBe("");
    expect(existsSync(join(t.tree, "note"))).toBe(false);
    expect(readFileSync(join(t.tree, "boot"), "utf8")).toBe(BOOT);
  });

  it('with sandbox = "none" and scope=, attacks only the throwaway tree', () => {
    const t = trees("scoped");
    const out = attackCommands({
      origin: t.origin,
      marker: t.marker,
      outside: join(t.tree, "note"),
      nonce: "guardtest",
      scope: t.tree,
    }).map((cmd) => inJail(cmd, t));
    // The attack works without the sandbox: it pushes main to the origin, plants in every git
    // directory of the tree, writes there and starts its committer...
    expect(out.join("\n")).not.toContain("refused");
    expect(git(t.origin, "for-each-ref", "--format=%(refname)")).toContain("refs/heads/main");
    expect(planted(join(t.ws, ".git"))).toBe(true);
    expect(planted(t.origin)).toBe(true);
    expect(git(t.ws, "config", "core.fsmonitor")).toContain(t.marker);
    expect(readFileSync(join(t.tree, "note"), "utf8")).toBe("pwned\n");
    expect(out[2]).toContain("forged ../boot");
    expect(readFileSync(join(t.tree, "boot"), "utf8")).toBe("00000000-0000-4000-8000-000000000000\n");
    expect(out[3]).toContain("detached");
    // ...and touches nothing outside it, though the jail would let it.
    expect(planted(join(t.other, "checkout", ".git"))).toBe(false);
    expect(out[1]).toContain(`planted in ${t.origin}`);
    expect(out[1]).not.toContain(t.other);
  });

  it("inside mtor's sandbox it attacks in full (pid 1 is bwrap)", () => {
    const t = trees("sandboxed");
    const sandbox = createSandbox("bwrap");
    const place = { workspace: t.ws, home: join(t.tree, "home") };
    const out = attackCommands({ origin: t.origin, marker: t.marker, nonce: "guardtest" }).map((cmd) => {
      const w = sandbox.wrap({ command: "bash", args: ["-c", cmd], env: ENV, cwd: t.ws }, place);
      const r = spawnSync(w.command, w.args, { cwd: w.cwd, env: w.env, encoding: "utf8", timeout: 60_000 });
      if (r.error) throw new Error(`bwrap could not run (install bubblewrap): ${r.error.message}`);
      return `${r.stdout}${r.stderr}`;
    });
    expect(out.join("\n")).not.toContain("refused");
    expect(out[1]).toContain("planted in .git");
    expect(planted(join(t.ws, ".git"))).toBe(true);
    // The sandbox itself still keeps it in its workspace: the origin is not even visible, nor
    // the boot record beside the workspace.
    expect(planted(t.origin)).toBe(false);
    expect(out[2]).not.toContain("forged");
    expect(readFileSync(join(t.tree, "boot"), "utf8")).toBe(BOOT);
  });
});
