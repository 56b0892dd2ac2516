// Fixtures for the Temporal engine tests: a real origin repo, a real `sh -c` command harness,
// the shared activities over them, and a recording control plane for verdicts.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ApiResult,
  type ClaimedRun,
  DEFAULT_GATES,
  parseSpec,
  type VerdictRequest,
  type VerdictResponse,
} from "@mtor/schema";
import {
  ActivityFailure,
  defaultFailureConverter,
  defaultPayloadConverter,
  RetryState,
} from "@temporalio/common";
import { MockActivityEnvironment } from "@temporalio/testing";
import { DefaultLogger } from "@temporalio/worker";
import { VerdictSpool } from "../../src/daemon/spool";
import { type ActivityDeps, createActivities } from "../../src/engine/activities";
import type { RunActivities } from "../../src/engine/types";
import { runGates } from "../../src/gates";
import { classifyProviderError } from "../../src/harness/classify";
import { baseEnv } from "../../src/harness/env";
import { exitFailure, preflightVerdict, processFailure, toResult } from "../../src/harness/outcome";
import { runProcess } from "../../src/harness/process";
import type { Harness } from "../../src/harness/types";
import { createSandbox } from "../../src/sandbox";
import type { TemporalActivities } from "../../src/temporal/activities";

const fixtureEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "fixture",
  GIT_AUTHOR_EMAIL: "fixture@mtor.invalid",
  GIT_COMMITTER_NAME: "fixture",
  GIT_COMMITTER_EMAIL: "fixture@mtor.invalid",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: fixtureEnv, encoding: "utf8" }).trim();
}

/** A temp dir holding a bare `origin.git` with one commit on main. */
export function makeOrigin(): { root: string; origin: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), "mtor-temporal-"));
  const seed = join(root, "seed");
  const origin = join(root, "origin.git");
  mkdirSync(seed);
  git(seed, "init", "-q", "-b", "main");
  writeFileSync(join(seed, "README.md"), "# demo\n");
  mkdirSync(join(seed, "src"));
  writeFileSync(
    join(seed, "src", "math.ts"),
    "export function add(a: number, b: number) {\n  return a + b;\n}\n",
  );
  git(seed, "add", "-A");
  git(seed, "commit", "-q", "-m", "initial");
  git(root, "clone", "-q", "--bare", seed, origin);
  return { root, origin, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Scripted harnesses, chosen by the spec's `harness` field. Commits carry fixed dates, so the
 * same script on the same base makes the same commit sha on any engine.
 */
export const SCRIPTS: Record<string, { preflight: string; run: string }> = {
  commits: {
    preflight: "echo ok",
    run: [
      "export GIT_AUTHOR_DATE=2026-01-02T00:00:00Z GIT_COMMITTER_DATE=2026-01-02T00:00:00Z",
      "printf 'export function sub(a: number, b: number) {\\n  return a - b;\\n}\\n' > src/sub.ts",
      'mkdir -p test && printf \'import { test } from "vitest";\\ntest("test_sub", () => {});\\n\' > test/sub.test.ts',
      "git add src/sub.ts test/sub.test.ts && git commit -q -m 'add sub'",
      "echo 'done: added sub'",
    ].join(" && "),
  },
  "no-commit": { preflight: "echo ok", run: "echo 'thinking... nothing to change'" },
  "bad-preflight": { preflight: "echo 'I cannot help with that'", run: "exit 1" },
  "auth-error": {
    preflight: "echo ok",
    run: "echo '401 authentication_error: invalid x-api-key' >&2; exit 1",
  },
  /** Writes its pid, then works for a long time while printing progress. */
  slow: {
    preflight: "echo ok",
    run: 'echo $$ > "$HOME/harness.pid"; i=0; while [ $i -lt 300 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done',
  },
};

/** A real command harness: `sh -c <script>` in its own process group, via the shared process runner. */
export function shHarness(name: string): Harness {
  const script = SCRIPTS[name];
  if (!script) throw new Error(`no scripted harness ${name}`);
  return {
    name,
    async preflight(input) {
      const timeoutMs = input.timeoutMs ?? 10_000;
      const p = await runProcess({
        command: "sh",
        args: ["-c", script.preflight],
        cwd: input.cwd,
        env: baseEnv(input),
        timeoutMs,
        signal: input.signal,
      });
      const failure = processFailure(p, name, timeoutMs) ?? (p.exitCode === 0 ? null : exitFailure(p, name));
      return preflightVerdict(toResult(p, failure), p.stdout);
    },
    async run(input) {
      const p = await runProcess({
        command: "sh",
        args: ["-c", script.run],
        cwd: input.cwd,
        env: { ...baseEnv(input), MTOR_PROMPT: input.prompt },
        timeoutMs: input.timeoutMs,
        signal: input.signal,
        onOutput: input.onOutput,
      });
      const failure =
        processFailure(p, name, input.timeoutMs) ??
        (p.exitCode === 0 ? null : (classifyProviderError(p.tail) ?? exitFailure(p, name)));
      return toResult(p, failure);
    },
  };
}

/** A control plane that acknowledges every verdict and records them. */
export function recordingControlPlane() {
  const verdicts: { runId: string; body: VerdictRequest }[] = [];
  return {
    verdicts,
    async verdict(runId: string, body: VerdictRequest): Promise<ApiResult<VerdictResponse>> {
      verdicts.push({ runId, body });
      return {
        ok: true,
        status: 200,
        data: {
          status:
            body.outcome === "passed"
              ? "awaiting_review"
              : body.outcome === "rejected"
                ? "rejected"
                : "failed",
        },
      };
    },
  };
}

export interface Box {
  workdir: string;
  activities: RunActivities;
  controlPlane: ReturnType<typeof recordingControlPlane>;
  deps: ActivityDeps;
}

/** The shared activities of one executor box, over `origin`, with its own workdir and spool. */
export function makeBox(root: string, origin: string, name: string): Box {
  const workdir = join(root, name);
  const controlPlane = recordingControlPlane();
  const spool = new VerdictSpool({ dir: join(workdir, "spool"), client: controlPlane });
  const deps: ActivityDeps = {
    config: {
      workdir,
      repos: { demo: { name: "demo", url: origin } },
      providers: {
        demo: {
          name: "demo",
          baseUrl: "http://127.0.0.1:9",
          token: "t",
          model: "demo-1",
          harness: "commits",
        },
      },
      keepFailed: 5,
      preflightTimeoutMs: 10_000,
      gitIdentity: { name: "mtor agent", email: "agent@mtor.invalid" },
    },
    spool,
    sandbox: createSandbox("bwrap"),
    harnessFor: shHarness,
    buildPrompt: (spec) => spec.body,
    runGates,
  };
  return { workdir, activities: createActivities(deps), controlPlane, deps };
}

let runCounter = 0;

/** A claimed run of the demo repo with the given scripted harness. */
export function makeRun(harness: string, opts: { timeout?: string; runId?: string } = {}): ClaimedRun {
  const parsed = parseSpec(
    `---\ntitle: Add sub\nrepo: demo\nprovider: demo\nharness: ${harness}\ntimeout: ${opts.timeout ?? "2m"}\ntests: [test_sub]\nstop: Stop after sub.\n---\nAdd a sub function next to add.\n`,
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  runCounter++;
  return {
    run_id: opts.runId ?? `run${process.pid}x${runCounter}`,
    spec_id: "k3f9x2ab",
    attempt: 1,
    lease: { token: "lease-token-1", ttl_s: 90, expires_at: new Date(Date.now() + 90_000).toISOString() },
    provider: { name: "demo", model: "demo-1", harness },
    spec: parsed.spec,
    gates: { ...DEFAULT_GATES },
    feedback: [],
    feedback_flags: [],
    recent_patch_ids: [],
  };
}

/** A mock activity environment that keeps the SDK's expected-failure warnings out of the test output. */
export function mockEnv(): MockActivityEnvironment {
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger("ERROR") });
}

/** `env.run` with the activity's own argument and result types. */
export function runIn<A extends unknown[], R>(
  env: MockActivityEnvironment,
  fn: (...args: A) => Promise<R>,
  ...args: A
): Promise<R> {
  return env.run(fn as (...a: unknown[]) => Promise<R>, ...args) as Promise<R>;
}

const wire = <T>(v: T): T =>
  v === undefined ? v : defaultPayloadConverter.fromPayload<T>(defaultPayloadConverter.toPayload(v));

/**
 * Each activity call as a worker would run it: in an activity context, its arguments and result
 * through Temporal's payload converter, its failure through the failure converter and wrapped in
 * an ActivityFailure, as the workflow receives it.
 */
export function asWorker(acts: TemporalActivities, identity = "box"): TemporalActivities {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(acts) as [string, (...a: unknown[]) => Promise<unknown>][]) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return wire(await runIn(mockEnv(), fn, ...args.map(wire)));
      } catch (err) {
        const failure = defaultFailureConverter.errorToFailure(err, defaultPayloadConverter);
        const cause = defaultFailureConverter.failureToError(failure, defaultPayloadConverter);
        throw new ActivityFailure(
          "Activity task failed",
          name,
          "1",
          RetryState.NON_RETRYABLE_FAILURE,
          identity,
          cause,
        );
      }
    };
  }
  return wrapped as unknown as TemporalActivities;
}
