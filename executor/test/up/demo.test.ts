// `mtor demo` end to end: the example specs through a throwaway stack with the scripted model;
// it exits 0, its report shows the botched spec rejected by the destruction gate and the review
// backlog limit holding claims until the demo approves, and nothing it started is left running.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../../src/local/control-plane";
import { survivors, trackTree } from "./processes";

it("mtor demo runs the examples, prints the morning report and exits 0", { timeout: 300_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), "mtor-demo-home-"));
  const stateDir = join(home, "demo-state");
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, "executor", "bin", "mtor.js"), "demo", "--state-dir", stateDir],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, HOME: home, MTOR_URL: "", MTOR_TOKEN: "" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const tree = trackTree(child.pid as number);
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((done) => child.once("exit", (c) => done(c)));
  const seen = tree.stop();

  expect(code, out).toBe(0);
  expect(out).toContain("SCRIPTED model, not a real LLM");
  expect(out).toMatch(/dispatched \w+ {2}04-dedup\.md/);
  // Progress while they run: phases of the runs appear as they change.
  expect(out).toMatch(/running \(harness\)/);

  const report = out.slice(out.indexOf("the morning report"));
  expect(report).toMatch(/^ {2}\w+\s+rejected\b.*Deduplicate specs by normalized body.*destruction/m);
  for (const title of [
    "Negative feedback dispatch throttle",
    "Load sensing before a claim",
    "Toggle commands for the operator console",
    "Freeze switch per provider",
  ]) {
    expect(report).toMatch(new RegExp(`^ {2}\\w+\\s+(awaiting_review|approved)\\b.*${title}`, "m"));
  }
  // The review backlog limit acted: it held claims, the demo approved, the queue moved on.
  expect(out).toMatch(
    /review backlog full \(2 of 2\): claims answer review_backlog; the demo reviewer approves \w+/,
  );
  expect(report).toMatch(/^ {2}\w+\s+approved\s+B\b/m);
  expect(report).toMatch(/^review backlog \d of 2/m);
  expect(report).toMatch(/^budget fleet \$\d+\.\d\d of \$25\.00 tonight$/m);
  // The demo model plays the reviewer too: every passed spec has its grade, A- where the
  // example asks for it, and the provider line counts them.
  expect(report).toMatch(
    /^ {2}\w+\s+\S+\s+\S+\s+\+\d+ -\d+\s+demo\s+Load sensing before a claim\s+reviewer A-$/m,
  );
  expect(report).toMatch(/^ +reviewer grades A-×1 B×3; reviewer tokens /m);
  expect(out).toMatch(/branches pushed to the sandbox: .*mtor\/\w+-1/);
  expect(existsSync(join(home, ".config", "mtor", "config.toml"))).toBe(false);
  expect(survivors(seen)).toEqual([]);
  rmSync(home, { recursive: true, force: true });
});
