// A pooled workspace carries nothing its previous agent planted into the next run: the agent here
// plants hooks, config programs, alternates, a forged index hiding an edit, untracked and ignored
// files, a nested repository and a symlink out of the workspace, and the reset undoes all of it
// without running any of it.
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revParse, syncMirror } from "../../src/git";
import { WorkspacePool } from "../../src/git/pool";
import { gitIn } from "../git-cli";

const root = mkdtempSync(join(tmpdir(), "mtor-git-pool-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sh = (cwd: string, ...args: string[]) =>
  gitIn(cwd, "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", ...args);

let mirror: string;
let base: string;
let next: string;

beforeAll(async () => {
  const seed = join(root, "seed");
  mkdirSync(join(seed, "src", "lib"), { recursive: true });
  sh(seed, "init", "-q", "-b", "main");
  writeFileSync(join(seed, "a.txt"), "a\n");
  writeFileSync(join(seed, "src", "lib", "x.ts"), "export const x = 1;\n");
  writeFileSync(join(seed, ".gitignore"), "dist/\n");
  sh(seed, "add", "-A");
  sh(seed, "commit", "-q", "-m", "initial");
  writeFileSync(join(seed, "b.txt"), "b\n");
  sh(seed, "add", "-A");
  sh(seed, "commit", "-q", "-m", "second");
  const origin = join(root, "origin.git");
  sh(root, "clone", "-q", "--bare", seed, origin);
  mirror = join(root, "mirror.git");
  await syncMirror(mirror, origin);
  next = await revParse(mirror, "refs/remotes/origin/main");
  base = await revParse(mirror, `${next}~1`);
});

describe("workspace pool", () => {
  // Given back with its mirror, a slot's next `.git` is cloned at once, and the reset uses it.
  for (const spare of [false, true])
    it(`resets a used workspace so nothing the previous agent planted survives or runs (${spare ? "its next .git cloned when given back" : "cloned at the reset"})`, async () => {
      const tag = spare ? "-spare" : "";
      const pool = new WorkspacePool(join(root, `pool${tag}`));
      const first = await pool.acquire("r", mirror, "mtor/s1-1", base);
      expect(first.reused).toBe(false);
      const ws = first.workspace;
      expect(sh(ws, "remote")).toBe("");

      // The previous agent plants everything it can reach. First an edit to a tracked file,
      // hidden by the agent's own index.
      writeFileSync(join(ws, "a.txt"), "poisoned\n");
      sh(ws, "update-index", "--assume-unchanged", "a.txt");
      expect(sh(ws, "status", "--porcelain")).toBe("");
      const ran = join(root, `planted-ran${tag}`);
      const program = join(root, `planted${tag}.sh`);
      writeFileSync(program, `#!/bin/sh\necho "$0 $*" >> ${ran}\n`);
      chmodSync(program, 0o755);
      mkdirSync(join(ws, ".git", "hooks"), { recursive: true });
      mkdirSync(join(ws, ".git", "info"), { recursive: true });
      for (const name of ["post-checkout", "reference-transaction", "pre-commit", "post-index-change"]) {
        writeFileSync(join(ws, ".git", "hooks", name), `#!/bin/sh\necho hook-${name} >> ${ran}\n`);
        chmodSync(join(ws, ".git", "hooks", name), 0o755);
      }
      for (const [k, v] of [
        ["core.fsmonitor", program],
        ["core.sshCommand", program],
        ["core.hooksPath", join(ws, ".git", "hooks")],
        ["filter.evil.smudge", program],
        ["filter.evil.clean", program],
        ["diff.external", program],
      ])
        sh(ws, "config", k as string, v as string);
      writeFileSync(join(ws, ".git", "info", "attributes"), "* filter=evil\n");
      writeFileSync(join(ws, ".git", "objects", "info", "alternates"), `${join(mirror, "objects")}\n`);
      // Untracked and ignored files, a nested repository, an untracked .gitattributes.
      writeFileSync(join(ws, "stray.txt"), "left behind\n");
      mkdirSync(join(ws, "dist"));
      writeFileSync(join(ws, "dist", "out.js"), "ignored\n");
      writeFileSync(join(ws, ".gitattributes"), "* filter=evil\n");
      sh(ws, "init", "-q", "nested");
      writeFileSync(join(ws, "nested", "f"), "x\n");
      // A tracked directory replaced by a symlink to a directory outside the workspace.
      const outside = join(root, `outside${tag}`);
      mkdirSync(outside);
      writeFileSync(join(outside, "keep.txt"), "mine\n");
      rmSync(join(ws, "src", "lib"), { recursive: true });
      symlinkSync(outside, join(ws, "src", "lib"));
      // A directory the agent made unreadable.
      mkdirSync(join(ws, "locked"));
      writeFileSync(join(ws, "locked", "f"), "x\n");
      chmodSync(join(ws, "locked"), 0o000);
      expect(existsSync(ran)).toBe(false);
      pool.release("r", ws, spare ? mirror : undefined);

      const second = await pool.acquire("r", mirror, "mtor/s2-1", next);
      expect(second).toEqual({ workspace: ws, reused: true });
      // Nothing planted ran during the reset.
      expect(existsSync(ran)).toBe(false);
      // The checkout is exactly the new base: tracked content restored, new file present.
      expect(readFileSync(join(ws, "a.txt"), "utf8")).toBe("a\n");
      expect(readFileSync(join(ws, "b.txt"), "utf8")).toBe("b\n");
      expect(lstatSync(join(ws, "src", "lib")).isDirectory()).toBe(true);
      expect(readFileSync(join(ws, "src", "lib", "x.ts"), "utf8")).toBe("export const x = 1;\n");
      expect(readdirSync(outside)).toEqual(["keep.txt"]);
      expect(readFileSync(join(outside, "keep.txt"), "utf8")).toBe("mine\n");
      for (const gone of ["stray.txt", "dist", ".gitattributes", "nested", "locked"])
        expect(existsSync(join(ws, gone)), gone).toBe(false);
      expect(sh(ws, "status", "--porcelain", "--ignored")).toBe("");
      expect(sh(ws, "rev-parse", "--abbrev-ref", "HEAD")).toBe("mtor/s2-1");
      expect(sh(ws, "rev-parse", "HEAD")).toBe(next);
      // The git directory is new: no planted config, hook, attribute or alternates.
      expect(sh(ws, "config", "--local", "--list")).not.toMatch(
        /fsmonitor|sshcommand|hookspath|filter|external/i,
      );
      expect(existsSync(join(ws, ".git", "hooks"))).toBe(false);
      expect(existsSync(join(ws, ".git", "info", "attributes"))).toBe(false);
      expect(existsSync(join(ws, ".git", "objects", "info", "alternates"))).toBe(false);
      expect(sh(ws, "remote")).toBe("");
      // And no git run in it afterwards runs the planted programs either.
      sh(ws, "status");
      expect(existsSync(ran)).toBe(false);
    });

  it("hands out a new workspace while one is taken, and detaches a kept one from the pool", async () => {
    const pool = new WorkspacePool(join(root, "pool2"));
    const a = await pool.acquire("r", mirror, "mtor/a-1", base);
    const b = await pool.acquire("r", mirror, "mtor/b-1", base);
    expect(b.workspace).not.toBe(a.workspace);
    const kept = join(root, "runs", "a-1", "ws");
    await pool.detach(a.workspace, kept);
    expect(readFileSync(join(kept, "a.txt"), "utf8")).toBe("a\n");
    expect(existsSync(a.workspace)).toBe(false);
    pool.release("r", b.workspace);
    const c = await pool.acquire("r", mirror, "mtor/c-1", next);
    expect(c).toEqual({ workspace: b.workspace, reused: true });
    // Another repo never gets this repo's workspace.
    pool.release("r", c.workspace);
    const other = await pool.acquire("s", mirror, "mtor/d-1", base);
    expect(other.reused).toBe(false);
  });

  it("clones again at the reset when the slot's spare .git lacks the commit asked for", async () => {
    const pool = new WorkspacePool(join(root, "pool4"));
    const a = await pool.acquire("r", mirror, "mtor/a-1", base);
    // The spare comes from a mirror that has only base, as when the mirror fetched `next` later.
    const older = join(root, "older.git");
    sh(root, "init", "-q", "--bare", older);
    sh(join(root, "seed"), "push", "-q", older, `${base}:refs/heads/main`);
    pool.release("r", a.workspace, older);
    const b = await pool.acquire("r", mirror, "mtor/b-1", next);
    expect(b).toEqual({ workspace: a.workspace, reused: true });
    expect(sh(b.workspace, "rev-parse", "HEAD")).toBe(next);
    expect(readFileSync(join(b.workspace, "b.txt"), "utf8")).toBe("b\n");
    expect(sh(b.workspace, "status", "--porcelain", "--ignored")).toBe("");
  });

  it("replaces a workspace whose reset fails with a fresh one", async () => {
    const pool = new WorkspacePool(join(root, "pool3"));
    const a = await pool.acquire("r", mirror, "mtor/a-1", base);
    // The saved index is the executor's; without it the workspace cannot be trusted again.
    rmSync(join(a.workspace, "..", "index"));
    pool.release("r", a.workspace);
    const b = await pool.acquire("r", mirror, "mtor/b-1", next);
    expect(b.reused).toBe(false);
    expect(b.workspace).not.toBe(a.workspace);
    expect(existsSync(a.workspace)).toBe(false);
    expect(readFileSync(join(b.workspace, "b.txt"), "utf8")).toBe("b\n");
  });
});
