// runGates' contract (settings, report fields, errors), feedbackFor and `mtor gate`.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_GATES, type GateFacts, GateFlag } from "@mtor/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { feedbackFor, type GateContext, GitError, listRefs, runGates } from "../../src/gates";
import { gateCommand } from "../../src/gates/cli";
import { BASE_FILES, cut, DISPATCH_TS } from "./fixtures";
import { cleanupRepos, TestRepo } from "./repo";

afterAll(cleanupRepos);

const BRANCH = "mtor/abcd1234-2";

function ctx(r: TestRepo, extra: Partial<GateContext> = {}): GateContext {
  return {
    repoDir: r.dir,
    base: "main",
    head: BRANCH,
    spec: { targets: [], tests: undefined, paths: undefined, body: "" },
    settings: DEFAULT_GATES,
    harnessSucceeded: true,
    runRef: `refs/heads/${BRANCH}`,
    runTests: false,
    ...extra,
  };
}

/** A branch that deletes should_dispatch and makes 7 commits. */
async function destructiveRepo(): Promise<TestRepo> {
  const r = await TestRepo.create(BASE_FILES);
  await r.branch(BRANCH);
  const { without } = cut(DISPATCH_TS, "/** Decides whether");
  await r.commit("dispatch", { "src/dispatch.ts": without });
  for (let i = 0; i < 6; i++) await r.commit(`note ${i}`, { [`notes/${i}.md`]: `${i}\n` });
  return r;
}

describe("runGates", () => {
  let r: TestRepo;
  beforeAll(async () => {
    r = await destructiveRepo();
  });

  it("reports commits, diffstat, patch id and shas", async () => {
    const report = await runGates(ctx(r));
    expect(report.commits).toBe(7);
    // the function (14 lines), its doc comment and the blank line after it
    expect(report.diffstat).toEqual({ files: 7, insertions: 6, deletions: 16 });
    expect(report.patchId).toMatch(/^[0-9a-f]{40}$/);
    expect(report.headSha).toBe(await r.sha(BRANCH));
    expect(report.baseSha).toBe(await r.sha("main"));
    expect(report.mergeBase).toBe(report.baseSha);
    expect(report.outcome).toBe("rejected");
    expect(report.flags).toEqual([
      {
        gate: "destruction",
        action: "reject",
        detail:
          "deleted function `should_dispatch` in src/dispatch.ts (14 lines), still used in test/dispatch.test.ts; it is exported API and the spec does not remove it",
        facts: {
          kind: "deleted_symbol",
          symbol_kind: "function",
          name: "should_dispatch",
          file: "src/dispatch.ts",
          lines: 14,
          used_in: "test/dispatch.test.ts",
        },
      },
      {
        gate: "commit_flood",
        action: "reject",
        detail: "7 commits, over the cap of 5",
        facts: { kind: "commit_flood", commits: 7, cap: 5 },
      },
    ]);
  });

  it("honours off, review and a missing setting (default)", async () => {
    const off = await runGates(
      ctx(r, { settings: { ...DEFAULT_GATES, destruction: { action: "off", retry: true } } }),
    );
    expect(off.flags.map((f) => f.gate)).toEqual(["commit_flood"]);
    const review = await runGates(
      ctx(r, {
        settings: {
          destruction: { action: "review", retry: true },
          commit_flood: { action: "review", retry: false },
        },
      }),
    );
    expect(review.outcome).toBe("passed");
    expect(review.flags.map((f) => `${f.gate}:${f.action}`)).toEqual([
      "destruction:review",
      "commit_flood:review",
    ]);
    const capped = await runGates(ctx(r, { commitCap: 10, settings: {} }));
    expect(capped.flags.map((f) => f.gate)).toEqual(["destruction"]);
  });

  it("does not flag a commit-less run whose harness failed", async () => {
    const q = await TestRepo.create(BASE_FILES);
    await q.branch(BRANCH);
    const report = await runGates(ctx(q, { harnessSucceeded: false }));
    expect(report).toMatchObject({ outcome: "passed", flags: [], commits: 0, patchId: undefined });
  });

  it("names the run's branch and a short base sha when given shas, as the executor does", async () => {
    const q = await TestRepo.create(BASE_FILES);
    await q.branch(BRANCH);
    const sha = await q.sha("main");
    const report = await runGates(ctx(q, { base: sha, head: sha }));
    expect(report.flags).toEqual([
      {
        gate: "no_commit_on_success",
        action: "reject",
        detail: `${BRANCH} has no commit on top of ${sha.slice(0, 7)}`,
        facts: { kind: "no_commit", uncommitted_files: 0 },
      },
    ]);
  });

  it("reads tests from paths with spaces and non-ASCII names, and survives binary files", async () => {
    const q = await TestRepo.create({ ...BASE_FILES, "assets/logo.bin": "\u0000\u0001\u0002" });
    await q.branch(BRANCH);
    await q.commit("tests", {
      "test/ünï code.test.ts": 'import { it } from "vitest";\nit("handles spaces", () => {});\n',
      'test/quote"d.test.ts': 'import { it } from "vitest";\nit("handles quotes", () => {});\n',
      "assets/logo.bin": null,
      "assets/new.bin": "\u0000\u0003",
    });
    const report = await runGates(
      ctx(q, {
        spec: { targets: [], tests: ["handles spaces", "handles quotes"], paths: undefined, body: "" },
      }),
    );
    expect(report.flags.filter((f) => f.gate.startsWith("tests_"))).toEqual([]);
    expect(report.flags.map((f) => f.detail)).toEqual([
      "deleted file assets/logo.bin, which the spec does not name",
    ]);
  });

  it("throws GitError naming a ref that is not there", async () => {
    await expect(runGates(ctx(r, { head: "mtor/nope-1" }))).rejects.toBeInstanceOf(GitError);
    await expect(runGates(ctx(r, { base: "nope" }))).rejects.toThrow(/base "nope"/);
  });

  it("sees refs created, moved and deleted, but not the run's own branch", async () => {
    const q = await TestRepo.create(BASE_FILES);
    await q.git("branch", "old");
    await q.branch(BRANCH);
    const before = await listRefs(q.dir);
    expect([...before.keys()].sort()).toEqual(
      ["refs/heads/main", `refs/heads/${BRANCH}`, "refs/heads/old"].sort(),
    );
    await q.commit("work", { "src/new.ts": "export const n = 1;\n" });
    await q.git("tag", "v9");
    await q.git("branch", "-D", "old");
    const after = Object.fromEntries(await listRefs(q.dir));
    const report = await runGates(ctx(q, { refsBefore: Object.fromEntries(before), refsAfter: after }));
    expect(report.flags.map((f) => f.detail)).toEqual([
      expect.stringMatching(/^deleted ref refs\/heads\/old \(was [0-9a-f]{7}\)$/),
      expect.stringMatching(/^created ref refs\/tags\/v9 at [0-9a-f]{7}$/),
    ]);
  });

  it("runs the test command without the executor's secrets", async () => {
    const q = await TestRepo.create(BASE_FILES);
    await q.branch(BRANCH);
    await q.commit("work", { "src/new.ts": "export const n = 1;\n" });
    process.env.MTOR_EXECUTOR_SECRET = "s3cret";
    try {
      const report = await runGates(
        ctx(q, { runTests: true, testCommand: 'echo "secret=[$MTOR_EXECUTOR_SECRET] ci=$CI"; exit 1' }),
      );
      expect(report.flags[0].detail).toContain("secret=[] ci=1");
    } finally {
      delete process.env.MTOR_EXECUTOR_SECRET;
    }
  });

  it("times out a hanging test command and kills it", async () => {
    const q = await TestRepo.create(BASE_FILES);
    await q.branch(BRANCH);
    await q.commit("work", { "src/new.ts": "export const n = 1;\n" });
    const started = Date.now();
    const report = await runGates(
      ctx(q, { runTests: true, testCommand: "echo starting; sleep 30", testTimeoutMs: 500 }),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(report.flags).toHaveLength(1);
    expect(report.flags[0].detail).toMatch(
      /^`echo starting; sleep 30` failed \(timed out after 1s\):\nstarting$/,
    );
  });
});

describe("feedbackFor", () => {
  const flag = (gate: GateFlag["gate"], detail: string, facts?: GateFacts): GateFlag => ({
    gate,
    action: "reject",
    detail,
    ...(facts ? { facts } : {}),
  });

  it("turns each flag's facts into a concrete instruction, whatever its detail says", () => {
    // The details are deliberately not the gates' wording: only the facts are read.
    expect(
      feedbackFor([
        flag("destruction", "d1", {
          kind: "deleted_symbol",
          symbol_kind: "function",
          name: "should_dispatch",
          file: "src/dispatch.ts",
          lines: 41,
        }),
        flag("destruction", "d2", {
          kind: "deleted_symbol",
          symbol_kind: "method",
          name: "Queue.claim",
          file: "src/queue.ts",
          lines: 11,
          used_in: "src/fleet.ts",
        }),
        flag("destruction", "d3", {
          kind: "shrank",
          name: "backoff",
          file: "src/dispatch.ts",
          from_lines: 10,
          to_lines: 1,
        }),
        flag("destruction", "d4", { kind: "deleted_file", file: "src/queue.ts" }),
        flag("destruction", "d5", { kind: "net_deletion", deleted: 100, added: 1 }),
        flag("no_commit_on_success", "n", { kind: "no_commit", uncommitted_files: 0 }),
        flag("empty_diff", "e", { kind: "empty_diff", commits: 2 }),
        flag("tests_missing", "m", { kind: "tests_missing", tests: ["a", "b"] }),
        flag("tests_extra", "x", { kind: "tests_extra", extra: ["x", "y"], named: ["a", "b"] }),
        flag("commit_flood", "c", { kind: "commit_flood", commits: 22, cap: 5 }),
        flag("target_file_missing", "t", { kind: "target_unchanged", file: "src/dispatch.ts" }),
        flag("out_of_scope", "o", {
          kind: "out_of_scope",
          paths: ["src/", "test/"],
          files: ["docs/x.md", "package.json"],
        }),
        flag("protected_branch_touched", "p", {
          kind: "ref_changed",
          ref: "refs/heads/main",
          change: "moved",
        }),
        flag("duplicate", "u", { kind: "same_as_spec", spec_id: "k3f9x2ab" }),
        flag("tests_failed", "f", {
          kind: "tests_failed",
          command: "npm test",
          why: "exit 1",
          tail: "FAIL throttle backs off",
        }),
        flag("destruction", "d6", {
          kind: "deleted_tests",
          file: "test/dispatch.test.ts",
          tests: ["refuses when frozen"],
        }),
        flag("protected_branch_touched", "b", { kind: "on_default_branch", branch: "main" }),
        flag("destruction", "d7", {
          kind: "shrank",
          name: "pick",
          file: "src/pick.ts",
          now_in: "src/choose.ts",
          from_lines: 30,
          to_lines: 3,
          asked: "extend",
        }),
      ]),
    ).toEqual([
      "Do not delete `should_dispatch` in src/dispatch.ts; extend it.",
      "Do not delete `Queue.claim` in src/queue.ts; it is still used in src/fleet.ts. Extend it.",
      "Do not replace `backoff` in src/dispatch.ts with a shorter version (it went from 10 lines to 1); keep its existing logic and extend it.",
      "Do not delete src/queue.ts; the spec does not ask for it. Keep the file and change only what the spec asks.",
      "Do not remove existing code: the last attempt deleted 100 lines and added 1. Add to the code instead of rewriting it.",
      "Commit your work: the last attempt ended without a commit.",
      "Make a real change and commit it: the last attempt's commits added up to no change at all.",
      "Add these tests named in the spec, with exactly these names: a, b.",
      "Add exactly these tests and no others: a, b. Remove the extra ones (x, y).",
      "Make at most 5 commits (the last attempt made 22); stop once the spec's tests pass.",
      "Change src/dispatch.ts: the spec targets it and the last attempt left it untouched.",
      "Change only files under src/, test/; leave docs/x.md, package.json untouched.",
      "Work only on your current branch: do not commit to, create, move or delete refs/heads/main.",
      "Do not repeat spec k3f9x2ab's change; do what this spec asks that is not done yet.",
      "Make `npm test` pass: it failed (exit 1) with:\nFAIL throttle backs off",
      "Do not delete the test `refuses when frozen` in test/dispatch.test.ts; make it pass by fixing the code.",
      "Commit on your own branch, never on main.",
      "Do not replace `pick` in src/choose.ts with a shorter version (it went from 30 lines to 3): the spec asks you to extend it, so keep its existing logic and add to it.",
    ]);
  });

  it("every flag runGates raises carries facts that parse as the wire's GateFlag", async () => {
    const r = await destructiveRepo();
    const report = await runGates(ctx(r));
    expect(report.flags.length).toBeGreaterThan(0);
    for (const f of report.flags) {
      expect(f.facts, f.detail).toBeDefined();
      expect(GateFlag.parse(f)).toEqual(f);
    }
  });

  it("quotes the detail of a flag without facts, skips off flags and repeats nothing", () => {
    expect(
      feedbackFor([
        flag("destruction", "something new"),
        flag("destruction", "something new"),
        { gate: "commit_flood", action: "off", detail: "9 commits, over the cap of 5" },
      ]),
    ).toEqual(["Do not delete or gut existing code (something new)."]);
  });

  it("writes feedback for every flag runGates raises in a real run", async () => {
    const r = await destructiveRepo();
    const report = await runGates(ctx(r));
    expect(feedbackFor(report.flags)).toEqual([
      "Do not delete `should_dispatch` in src/dispatch.ts; it is still used in test/dispatch.test.ts. Extend it.",
      "Make at most 5 commits (the last attempt made 7); stop once the spec's tests pass.",
    ]);
  });
});

describe("mtor gate", () => {
  let r: TestRepo;
  beforeAll(async () => {
    r = await TestRepo.create(BASE_FILES);
    await r.branch("good");
    await r.commit("add metrics", { "src/metrics.ts": "export const m = 1;\n" });
    await r.checkout("main");
    await r.branch("bad", "main");
    const { without } = cut(DISPATCH_TS, "/** Decides whether");
    await r.commit("dispatch", { "src/dispatch.ts": without });
    await r.checkout("main");
  });

  const run = async (...argv: string[]) => {
    const io = { out: [] as string[], err: [] as string[] };
    const code = await gateCommand(argv, {
      out: (t) => io.out.push(t),
      err: (t) => io.err.push(t),
      exitCode: 0,
      cwd: r.dir,
    });
    return { code, out: io.out.join("\n"), err: io.err.join("\n") };
  };

  it("exits 0 on a passing branch, with a readable list", async () => {
    const res = await run("--repo", ".", "--base", "main", "--head", "good");
    expect(res.code).toBe(0);
    expect(res.out).toContain("PASSED  good against main: 1 commit, 1 file, +1 −0");
  });

  it("exits 1 when rejected and prints {outcome, flags} with --json", async () => {
    const res = await run("--repo", r.dir, "--base", "main", "--head", "bad", "--json");
    expect(res.code).toBe(1);
    const json = JSON.parse(res.out);
    expect(json).toMatchObject({
      outcome: "rejected",
      flags: [
        {
          gate: "destruction",
          action: "reject",
          detail:
            "deleted function `should_dispatch` in src/dispatch.ts (14 lines), still used in test/dispatch.test.ts; it is exported API and the spec does not remove it",
        },
      ],
      commits: 1,
    });
  });

  it("reads a spec's tests, targets and paths", async () => {
    await writeFile(
      join(r.dir, "spec.md"),
      "---\ntitle: metrics\ntests: [counts]\npaths: [lib/]\n---\nAdd metrics.\n",
    );
    const res = await run("--repo", r.dir, "--base", "main", "--head", "good", "--spec", "spec.md");
    expect(res.code).toBe(1);
    expect(res.out).toContain("✗ tests_missing (reject): named in the spec but not added: `counts`");
    expect(res.out).toContain("✗ out_of_scope (reject): changed a file outside paths [lib/]: src/metrics.ts");
  });

  it("applies intent: a spec that asks to extend a function does not license deleting it; removes does", async () => {
    await writeFile(
      join(r.dir, "extend.md"),
      "---\ntitle: extend\n---\nAdd a cooldown check to `should_dispatch()`.\n",
    );
    const extend = await run(
      "--repo",
      r.dir,
      "--base",
      "main",
      "--head",
      "bad",
      "--spec",
      "extend.md",
      "--json",
    );
    expect(extend.code).toBe(1);
    expect(JSON.parse(extend.out).flags[0].detail).toMatch(
      /^deleted function `should_dispatch` in src\/dispatch.ts .*; the spec asks to extend it, not to delete it$/,
    );
    await writeFile(
      join(r.dir, "removes.md"),
      "---\ntitle: retire\nremoves: [should_dispatch]\n---\nRetire the old dispatch check.\n",
    );
    const removes = await run("--repo", r.dir, "--base", "main", "--head", "bad", "--spec", "removes.md");
    expect(removes.code, removes.out).toBe(0);
  });

  it("runs the test command only with --run-tests", async () => {
    await r.checkout("good");
    await r.commit("break the check", { "check.js": "console.log('broken');\nprocess.exit(1);\n" });
    await r.checkout("main");
    const without = await run("--repo", r.dir, "--base", "main", "--head", "good");
    expect(without.code).toBe(0);
    const withTests = await run(
      "--repo",
      r.dir,
      "--base",
      "main",
      "--head",
      "good",
      "--run-tests",
      "--test-command",
      "node check.js",
    );
    expect(withTests.code).toBe(1);
    expect(withTests.out).toContain("tests_failed (reject): `node check.js` failed (exit 1):");
    expect(withTests.out).toContain("broken");
    const fromPackage = await run(
      "--repo",
      r.dir,
      "--base",
      "main",
      "--head",
      "good",
      "--run-tests",
      "--json",
    );
    expect(JSON.parse(fromPackage.out).flags[0].detail).toMatch(/^`npm test` failed \(exit 1\):/);
  });

  it("exits 2 with a clear message on usage errors", async () => {
    const cases: [string[], RegExp][] = [
      [["--repo", "/", "--base", "main", "--head", "good"], /--repo \/: not a git repository/],
      [["--repo", r.dir, "--base", "nope", "--head", "good"], /--base nope: no such commit or branch/],
      [["--repo", r.dir, "--base", "main", "--head", "nope"], /--head nope: no such commit or branch/],
      [["--repo", r.dir, "--base", "main"], /required option '--head <ref>' not specified/],
      [
        ["--repo", r.dir, "--base", "main", "--head", "good", "--spec", "missing.md"],
        /--spec missing.md: cannot read it \(ENOENT\)/,
      ],
      [["--repo", r.dir, "--base", "main", "--head", "good", "--bogus"], /unknown option '--bogus'/],
    ];
    for (const [argv, message] of cases) {
      const res = await run(...argv);
      expect(res.code, argv.join(" ")).toBe(2);
      expect(res.err).toMatch(message);
    }
  });

  it("exits 2 showing each field error of an invalid spec", async () => {
    await writeFile(join(r.dir, "bad-spec.md"), "---\ntitle: x\ntimeout: forever\ncolour: red\n---\nbody\n");
    const res = await run("--repo", r.dir, "--base", "main", "--head", "good", "--spec", "bad-spec.md");
    expect(res.code).toBe(2);
    expect(res.err).toContain("--spec bad-spec.md is not a valid spec:");
    expect(res.err).toMatch(/ {2}colour: unknown field/);
    expect(res.err).toMatch(/ {2}timeout: bad duration "forever"/);
  });
});
