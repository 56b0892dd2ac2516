// The patch a verdict carries: the plain unified diff, cut at a line boundary under the bound with
// its whole size stated, and taken by the gates step of the shared activities.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boundPatch, PATCH_MAX_BYTES, type VerdictRequest } from "@mtor/schema";
import { afterAll, describe, expect, it } from "vitest";
import { createActivities } from "../../src/engine/activities";
import { decideVerdict, verdictRequest } from "../../src/engine/verdict";
import { branchPatch, fitVerdict } from "../../src/git/patch";
import { git, makeBox, makeOrigin, makeRun, shHarness } from "../temporal/helpers";

const root = mkdtempSync(join(tmpdir(), "mtor-patch-"));
const box = makeOrigin();
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  box.cleanup();
});

/** `git diff` as a person runs it, untrimmed and of any size. */
const diff = (cwd: string, base: string, head: string) =>
  execFileSync("git", ["diff", "--no-color", base, head], {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });

describe("branchPatch", () => {
  const repo = join(root, "repo");
  mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  git(repo, "config", "color.ui", "always");
  writeFileSync(join(repo, "a.txt"), "one\ntwo\n");
  git(repo, "add", ".");
  git(repo, "commit", "-q", "-m", "base");
  const base = git(repo, "rev-parse", "HEAD");

  it("carries a small diff whole, without colour even where the repository asks for it", async () => {
    writeFileSync(join(repo, "a.txt"), "one\nTWO\n");
    git(repo, "commit", "-q", "-am", "small");
    const head = git(repo, "rev-parse", "HEAD");
    const p = await branchPatch(repo, base, head);
    const expected = diff(repo, base, head);
    expect(p).toEqual({ text: expected, truncated: false, bytes: Buffer.byteLength(expected) });
    expect(p.text).toContain("-two\n+TWO\n");
    expect(p.text).not.toContain("\u001b[");
  });

  it("cuts a huge diff at a line under the bound and states the whole size", async () => {
    const line = `"quoted" and \\ back ü ${"x".repeat(60)}\n`;
    writeFileSync(join(repo, "big.txt"), line.repeat(60_000));
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "huge");
    const head = git(repo, "rev-parse", "HEAD");
    const whole = diff(repo, base, head);
    const p = await branchPatch(repo, base, head);
    expect(p.truncated).toBe(true);
    expect(p.bytes).toBe(Buffer.byteLength(whole));
    expect(p.bytes).toBeGreaterThan(4 * 1024 * 1024);
    expect(whole.startsWith(p.text)).toBe(true);
    expect(p.text.endsWith("\n")).toBe(true);
    const json = Buffer.byteLength(JSON.stringify(p.text)) - 2;
    expect(json).toBeLessThanOrEqual(PATCH_MAX_BYTES);
    expect(json).toBeGreaterThan(PATCH_MAX_BYTES - line.length * 2);
  });
});

describe("the gates step", () => {
  it("takes the run's patch, and the verdict carries it", async () => {
    const { deps } = makeBox(box.root, box.origin, "patch-box");
    const acts = createActivities({ ...deps, harnessFor: shHarness });
    const run = makeRun("commits");
    const prepared = await acts.prepareWorktree(run);
    const harness = await acts.runHarness(run, prepared);
    const gates = await acts.runGates(run, prepared, harness);
    expect(gates.patch?.truncated).toBe(false);
    expect(gates.patch?.text).toContain("+++ b/src/sub.ts\n");
    expect(gates.patch?.text).toContain("+export function sub(a: number, b: number) {\n");
    const v = verdictRequest({
      run,
      decision: decideVerdict({ harness, gates }),
      prepared,
      harness,
      gates,
      durationMs: 1,
    });
    expect(v.patch).toEqual(gates.patch);
    await acts.cleanup(run, prepared, false);
  });
});

describe("fitVerdict", () => {
  const line = `+${"y".repeat(70)} "q"\n`;
  const diff = line.repeat(10_000);
  const patch = boundPatch(diff, Buffer.byteLength(diff), true);
  const base: VerdictRequest = { token: "t", outcome: "passed", flags: [], duration_ms: 1, patch };

  it("leaves a verdict that fits alone", () => {
    expect(fitVerdict(base)).toBe(base);
  });

  it("cuts the patch further when the review and flags leave too little room under the body limit", () => {
    const crowded: VerdictRequest = {
      ...base,
      flags: [{ gate: "destruction", action: "review", detail: '"'.repeat(20_000) }],
      log_tail: '"'.repeat(16_000),
      review: {
        provider: "big",
        grade: "C",
        findings: Array.from({ length: 20 }, () => ({
          severity: "minor" as const,
          file: "f".repeat(500),
          note: '"'.repeat(2000),
        })),
      },
    };
    expect(Buffer.byteLength(JSON.stringify(crowded))).toBeGreaterThan(256 * 1024);
    const fit = fitVerdict(crowded);
    expect(Buffer.byteLength(JSON.stringify(fit))).toBeLessThanOrEqual(255 * 1024);
    expect(fit.patch?.truncated).toBe(true);
    expect(fit.patch?.bytes).toBe(Buffer.byteLength(diff));
    expect(fit.patch?.text.length).toBeGreaterThan(0);
    expect(diff.startsWith(fit.patch?.text ?? "x")).toBe(true);
    expect(fit.patch?.text.endsWith("\n")).toBe(true);
    expect(fit.review).toEqual(crowded.review);
  });
});
