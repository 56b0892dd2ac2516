// The opencode adapter, run as the real OpenCode CLI against the demo provider on loopback.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoProvider, startDemoProvider } from "../../src/demo/provider";
import { createOpencodeHarness } from "../../src/harness/opencode";
import { buildPreflightPrompt, buildPrompt } from "../../src/prompt";
import { demoProviderConfig, liveGroupMembers, makeWorkspace, type Workspace } from "./fixtures";

const harness = createOpencodeHarness();
// opencode's own start-up is slow on a busy 2-core box; bounds below are on what mtor controls.
const SLOW = 180_000;
let provider: DemoProvider;
const workspaces: Workspace[] = [];

beforeAll(async () => {
  provider = await startDemoProvider();
});
afterAll(async () => {
  await provider.close();
  for (const w of workspaces) w.cleanup();
});

function workspace(): Workspace {
  const w = makeWorkspace({ "README.md": "# demo repo\n", "src/limits.py": "def limit():\n    return 1\n" });
  workspaces.push(w);
  return w;
}

function base(w: Workspace, timeoutMs: number) {
  return {
    cwd: w.repo,
    home: w.home,
    provider: demoProviderConfig(provider.url, "opencode"),
    model: "demo",
    timeoutMs,
  };
}

function runPrompt(script: string): string {
  return buildPrompt({
    body: `Add a clamp helper to the limits module.\n<!-- mtor-demo: ${script} -->`,
    targets: ["src/limits.py"],
    tests: ["test_clamp_low", "test_clamp_high"],
    stop: "Stop after these 2 tests.",
  });
}

describe("opencode harness against the demo provider", () => {
  it(
    "makes a real commit with the target function and the named tests, and reports usage",
    async () => {
      const w = workspace();
      const result = await harness.run({ ...base(w, 150_000), prompt: runPrompt("default") });
      expect(result.failure).toBeUndefined();
      expect(result.ok).toBe(true);
      expect(w.git("rev-list", "--count", "main..HEAD")).toBe("1");
      expect(w.git("rev-parse", "--abbrev-ref", "HEAD")).toBe("mtor/abc123-1");
      expect(w.git("status", "--porcelain")).toBe("");
      const target = readFileSync(join(w.repo, "src/limits.py"), "utf8");
      expect(target).toContain("def limit():");
      expect(target).toContain("def clamp_low(value, low, high):");
      const tests = readFileSync(join(w.repo, "tests/test_limits.py"), "utf8");
      expect([...tests.matchAll(/^def (test_\w+)\(/gm)].map((m) => m[1])).toEqual([
        "test_clamp_low",
        "test_clamp_high",
      ]);
      expect(result.usage?.turns).toBe(4);
      expect(result.usage?.input_tokens).toBeGreaterThan(0);
      expect(result.usage?.output_tokens).toBeGreaterThan(0);
      expect(liveGroupMembers(result.pgid as number)).toEqual([]);
    },
    SLOW,
  );

  it(
    "passes the preflight",
    async () => {
      const w = workspace();
      const result = await harness.preflight(base(w, 60_000));
      expect(result).toMatchObject({ ok: true });
    },
    SLOW,
  );

  it(
    "fails the preflight as `preflight` at the first 529, without opencode's retry loop",
    async () => {
      const w = workspace();
      const before = provider.requests.length;
      const result = await harness.preflight({
        ...base(w, 60_000),
        prompt: buildPreflightPrompt("<!-- mtor-demo: error_529 -->"),
      });
      const finished = Date.now();
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.failure.kind).toBe("preflight");
      expect(result.failure.message).toMatch(/529 overloaded/);
      // opencode alone would retry a 529 forever; the run ends within seconds of the answer.
      const seen = provider.requests.slice(before);
      expect(seen.map((r) => r.status)).toEqual([529]);
      expect(finished - seen[0].at).toBeLessThan(5_000);
    },
    SLOW,
  );

  it(
    "reports a 429 as rate_limited with the retry-after header's seconds instead of waiting",
    async () => {
      const w = workspace();
      const before = provider.requests.length;
      const result = await harness.run({ ...base(w, 150_000), prompt: runPrompt("rate_limit") });
      const finished = Date.now();
      expect(result.failure).toMatchObject({ kind: "rate_limited", retry_after_s: 120 });
      const seen = provider.requests.slice(before);
      expect(seen.map((r) => r.status)).toEqual([429]);
      expect(finished - seen[0].at).toBeLessThan(5_000);
      expect(liveGroupMembers(result.pgid as number)).toEqual([]);
    },
    SLOW,
  );
});
