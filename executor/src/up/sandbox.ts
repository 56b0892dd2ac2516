// The local `sandbox` repository the example specs target: a bare origin (where executors push
// their branches) seeded with a small project in the shape of real overnight work.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const SEED: Record<string, string> = {
  "README.md":
    "# sandbox\n\nA small project that mtor's example specs change. Branches named `mtor/*` are the agents' work.\n",
  "package.json": `${JSON.stringify({ name: "sandbox", private: true, type: "module", scripts: { test: "node --test" } }, null, 2)}\n`,
  "src/dispatch.js": `// Dispatch timing: how long a failed spec waits before its next attempt.
export function nextDelay(attempt, baseS = 60, capS = 1800) {
  const delay = baseS * 2 ** Math.max(0, attempt - 1);
  return Math.min(capS, delay);
}
`,
  "src/load.js": `// Box load as the executor reports it.
import os from "node:os";

export function loadAverage() {
  const [one] = os.loadavg();
  return one / Math.max(1, os.cpus().length);
}
`,
  "src/toggles.js": `// Operator console commands of the form "NAME on|off".
export function parseToggle(line) {
  const m = /^\\s*(\\w+)\\s+(on|off)\\s*$/.exec(line);
  if (!m) return null;
  return { name: m[1], on: m[2] === "on" };
}
`,
  "src/dedup.js": `// Spec bodies compared without regard to whitespace.
export function normalize(body) {
  // Line endings first, so bodies written on any system compare equal.
  const unix = body.replace(/\\r\\n?/g, "\\n");
  const lines = unix.split("\\n").map((line) => line.trim());
  // Blank lines and indentation do not change what a spec asks for.
  const words = [];
  for (const line of lines) {
    if (line === "") continue;
    words.push(...line.split(/\\s+/));
  }
  return words.join(" ");
}
`,
  "src/freeze.js": `// Freeze switches: the whole fleet, or one provider.
export function isFrozen(state, provider) {
  if (state.fleet) return true;
  return state.providers.includes(provider);
}
`,
  "test/dispatch.test.js": `import { test } from "node:test";
import assert from "node:assert/strict";
import { nextDelay } from "../src/dispatch.js";

test("delay doubles and is capped", () => {
  assert.equal(nextDelay(1), 60);
  assert.equal(nextDelay(2), 120);
  assert.equal(nextDelay(10), 1800);
});
`,
};

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "mtor",
      GIT_AUTHOR_EMAIL: "mtor@localhost",
      GIT_COMMITTER_NAME: "mtor",
      GIT_COMMITTER_EMAIL: "mtor@localhost",
      GIT_CONFIG_NOSYSTEM: "1",
    },
  });
}

/**
 * Creates `dir` as a bare repository with the seed project on `main`, unless it already exists.
 * Returns the path (executors use it as the repo URL).
 */
export function ensureSandboxRepo(dir: string): string {
  if (existsSync(join(dir, "HEAD"))) return dir;
  mkdirSync(dirname(dir), { recursive: true });
  git(dirname(dir), ["init", "--quiet", "--bare", "--initial-branch=main", dir]);
  const work = mkdtempSync(join(tmpdir(), "mtor-seed-"));
  try {
    git(work, ["init", "--quiet", "--initial-branch=main"]);
    for (const [path, content] of Object.entries(SEED)) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), content);
    }
    git(work, ["add", "-A"]);
    git(work, ["commit", "--quiet", "-m", "Seed the sandbox project"]);
    git(work, ["push", "--quiet", dir, "main:main"]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

/** Branch names in the bare repo, e.g. to show which `mtor/*` branches agents pushed. */
export function branches(dir: string): string[] {
  return git(dir, ["for-each-ref", "--format=%(refname:short)", "refs/heads"]).split("\n").filter(Boolean);
}
