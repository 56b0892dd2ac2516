// The executor side: the [temporal] config table, the workers a box runs, and how a claimed run
// becomes a workflow (id, conflict policy, queue, re-claims, lease loss). Temporal's client is
// the boundary here: a recording stand-in answers as the server would.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@temporalio/client";
import { WorkflowFailedError } from "@temporalio/client";
import { CancelledFailure, RetryState, WorkflowExecutionAlreadyStartedError } from "@temporalio/common";
import { afterAll, describe, expect, it, vi } from "vitest";
import { ConfigError, parseConfig } from "../../src/config";
import { connectionOptions, describeSettings, parseTemporalSettings } from "../../src/temporal/config";
import { TemporalEngine } from "../../src/temporal/engine";
import { runTemporalExecutor } from "../../src/temporal/index";
import { DEFAULT_TIMING, type SpecRunResult } from "../../src/temporal/shared";
import { planWorkers, providerCapacity } from "../../src/temporal/worker";
import { MINIMAL_ENV, minimalConfig } from "../config-fixture";
import { makeRun } from "./helpers";

const dir = mkdtempSync(join(tmpdir(), "mtor-temporal-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("[temporal] config", () => {
  it("defaults to a local dev server on localhost:7233, namespace default, queues mtor-<provider>", () => {
    const s = parseTemporalSettings(undefined, {});
    expect(s).toMatchObject({
      address: "localhost:7233",
      namespace: "default",
      taskQueuePrefix: "mtor",
      tls: undefined,
      apiKey: undefined,
    });
    expect(s.timing).toEqual(DEFAULT_TIMING);
    expect(connectionOptions(s)).toEqual({ address: "localhost:7233" });
  });

  it("reads address, namespace, prefix and timing from the table; TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE win", () => {
    const table = {
      address: "temporal.internal:7233",
      namespace: "mtor",
      task_queue_prefix: "night",
      heartbeat_timeout_s: 120,
      max_attempts: 5,
    };
    const s = parseTemporalSettings(table, {});
    expect(s).toMatchObject({
      address: "temporal.internal:7233",
      namespace: "mtor",
      taskQueuePrefix: "night",
    });
    expect(s.timing).toMatchObject({ heartbeatTimeoutMs: 120_000, maxAttempts: 5 });
    const o = parseTemporalSettings(table, {
      TEMPORAL_ADDRESS: "10.0.0.5:7233",
      TEMPORAL_NAMESPACE: "other",
    });
    expect(o).toMatchObject({ address: "10.0.0.5:7233", namespace: "other" });
  });

  it("Temporal Cloud with an API key: key from the named variable, TLS on, key never described", () => {
    const s = parseTemporalSettings(
      { address: "my-ns.a1b2c.tmprl.cloud:7233", namespace: "my-ns.a1b2c", api_key_env: "MY_TEMPORAL_KEY" },
      { MY_TEMPORAL_KEY: "secret-key-123" },
    );
    expect(s.apiKey).toBe("secret-key-123");
    expect(s.tls).toEqual({});
    const o = connectionOptions(s);
    expect(o.apiKey).toBe("secret-key-123");
    expect(o.tls).toBeTruthy();
    const line = describeSettings(s);
    expect(line).toContain("API key from MY_TEMPORAL_KEY");
    expect(line).not.toContain("secret-key-123");
  });

  it("Temporal Cloud with mTLS: certificate and key paths (relative to the config) are read into the connection", () => {
    writeFileSync(join(dir, "client.pem"), "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n");
    writeFileSync(join(dir, "client.key"), "-----BEGIN PRIVATE KEY-----\ndef\n-----END PRIVATE KEY-----\n");
    const s = parseTemporalSettings(
      {
        address: "my-ns.a1b2c.tmprl.cloud:7233",
        tls: { client_cert: "client.pem", client_key: "client.key", server_name: "my-ns" },
      },
      {},
      dir,
    );
    expect(s.tls).toMatchObject({
      clientCertPath: join(dir, "client.pem"),
      clientKeyPath: join(dir, "client.key"),
    });
    const o = connectionOptions(s);
    const tls = o.tls as { clientCertPair: { crt: Buffer; key: Buffer }; serverNameOverride: string };
    expect(tls.clientCertPair.crt.toString()).toContain("BEGIN CERTIFICATE");
    expect(tls.clientCertPair.key.toString()).toContain("BEGIN PRIVATE KEY");
    expect(tls.serverNameOverride).toBe("my-ns");
    expect(describeSettings(s)).toContain("mTLS client certificate");
  });

  it("names every bad key", () => {
    expect(
      problems(() =>
        parseTemporalSettings({ adress: "x", task_queue_prefix: "no spaces", max_attempts: 0 }, {}),
      ),
    ).toEqual(
      expect.arrayContaining([
        "temporal.adress: unknown key",
        expect.stringMatching(/^temporal\.task_queue_prefix: /),
        expect.stringMatching(/^temporal\.max_attempts: /),
      ]),
    );
    expect(problems(() => parseTemporalSettings({ tls: { client_cert: "a.pem" } }, {}))).toEqual([
      "temporal.tls: client_cert and client_key go together (mTLS needs both)",
    ]);
    expect(problems(() => parseTemporalSettings({ tls: false }, { TEMPORAL_API_KEY: "k" }))).toEqual([
      "temporal.tls: an API key (TEMPORAL_API_KEY) needs TLS; remove tls = false",
    ]);
    const s = parseTemporalSettings(
      { tls: { client_cert: "missing.pem", client_key: "missing.key" } },
      {},
      dir,
    );
    expect(problems(() => connectionOptions(s))).toEqual([
      expect.stringMatching(/^temporal\.tls\.client_cert: cannot read .*missing\.pem: ENOENT/),
    ]);
  });

  it('comes from the executor config\'s [temporal] table with engine = "temporal"', () => {
    const config = parseConfig(
      [
        'control_plane = "http://127.0.0.1:8787"',
        'id = "box-a"',
        'engine = "temporal"',
        "capacity = 3",
        "[repos.demo]",
        'url = "/srv/demo.git"',
        "[providers.zhipu]",
        'base_url = "https://open.bigmodel.cn/api/anthropic"',
        'token_env = "PROVIDER_KEY"',
        'model = "glm-5.1"',
        "slots = 2",
        "[providers.other]",
        'base_url = "https://example.invalid/anthropic"',
        'token_env = "PROVIDER_KEY"',
        'model = "m"',
        "[temporal]",
        'address = "temporal.internal:7233"',
        'task_queue_prefix = "night"',
      ].join("\n"),
      { MTOR_EXECUTOR_SECRET: "s", PROVIDER_KEY: "k" },
      dir,
    );
    expect(config.engine).toBe("temporal");
    const s = parseTemporalSettings(config.temporal, {});
    expect(s).toMatchObject({ address: "temporal.internal:7233", taskQueuePrefix: "night" });
    // Activity concurrency per provider: the box's capacity, capped by the provider's slots.
    expect(providerCapacity(config)).toEqual({ zhipu: 2, other: 3 });
    expect(
      planWorkers({
        taskQueuePrefix: s.taskQueuePrefix,
        executorId: config.id,
        capacity: providerCapacity(config),
      }),
    ).toEqual([
      {
        provider: "zhipu",
        taskQueue: "night-zhipu",
        workflows: true,
        maxConcurrentActivityTaskExecutions: 2,
      },
      {
        provider: "zhipu",
        taskQueue: "night-zhipu@box-a",
        workflows: false,
        maxConcurrentActivityTaskExecutions: 2,
      },
      {
        provider: "other",
        taskQueue: "night-other",
        workflows: true,
        maxConcurrentActivityTaskExecutions: 3,
      },
      {
        provider: "other",
        taskQueue: "night-other@box-a",
        workflows: false,
        maxConcurrentActivityTaskExecutions: 3,
      },
    ]);
  });

  it("a bad [temporal] table stops the executor before it connects, naming the key, exit code 2", async () => {
    const config = parseConfig(
      minimalConfig({
        controlPlane: "http://127.0.0.1:8787",
        top: ['engine = "temporal"'],
        tables: ["[temporal]", 'adress = "localhost:7233"'],
      }),
      MINIMAL_ENV,
      dir,
    );
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await runTemporalExecutor(config, { handleSignals: false });
      expect(process.exitCode).toBe(2);
    } finally {
      spy.mockRestore();
      process.exitCode = 0;
    }
    expect(written.join("")).toContain("temporal.adress: unknown key");
  });

  it("an unreachable cluster stops the executor at start with the address named (the native bridge loads)", async () => {
    const config = parseConfig(
      minimalConfig({ controlPlane: "http://127.0.0.1:8787", top: ['engine = "temporal"'] }),
      MINIMAL_ENV,
      dir,
    );
    const settings = parseTemporalSettings({ address: "127.0.0.1:1" }, {});
    await expect(runTemporalExecutor(config, { settings, handleSignals: false })).rejects.toThrow(
      /temporal: cannot connect to 127\.0\.0\.1:1 \(namespace default\)/,
    );
  });
});

/** A stand-in for Temporal's client: records starts, signals and cancels; results are scripted. */
function fakeClient(opts: {
  existing?: boolean;
  phase?: () => string;
  result: () => Promise<SpecRunResult>;
  queried?: () => SpecRunResult | null;
}) {
  const calls: { op: string; args: unknown[] }[] = [];
  const handle = (workflowId: string) => ({
    workflowId,
    result: opts.result,
    query: async (name: string) => {
      calls.push({ op: "query", args: [workflowId, name] });
      return name === "result" ? (opts.queried?.() ?? null) : (opts.phase?.() ?? "harness");
    },
    signal: async (...args: unknown[]) => {
      calls.push({ op: "signal", args: [workflowId, ...args] });
    },
    cancel: async () => {
      calls.push({ op: "cancel", args: [workflowId] });
    },
  });
  const client = {
    workflow: {
      start: async (type: string, options: Record<string, unknown>) => {
        calls.push({ op: "start", args: [type, options] });
        if (opts.existing)
          throw new WorkflowExecutionAlreadyStartedError("already started", String(options.workflowId), type);
        return handle(String(options.workflowId));
      },
      getHandle: (id: string) => {
        calls.push({ op: "getHandle", args: [id] });
        return handle(id);
      },
    },
  };
  return { client: client as unknown as Client, calls };
}

const passed = (token: string): SpecRunResult => ({
  verdict: { token, outcome: "passed", flags: [], duration_ms: 5 },
  report: { accepted: true, status: "awaiting_review" },
});

describe("TemporalEngine", () => {
  it("starts specRun as mtor-<run_id> on <prefix>-<provider> with conflict policy USE_EXISTING", async () => {
    const run = makeRun("commits", { runId: "r123" });
    const { client, calls } = fakeClient({ result: async () => passed(run.lease.token) });
    const engine = new TemporalEngine({
      client,
      taskQueuePrefix: "night",
      timing: { heartbeatTimeoutMs: 60_000 },
    });
    const result = await engine.start(run).done;
    expect(result).toEqual({
      verdict: passed(run.lease.token).verdict,
      report: { accepted: true, status: "awaiting_review" },
    });
    const start = calls.find((c) => c.op === "start");
    expect(start?.args[0]).toBe("specRun");
    expect(start?.args[1]).toMatchObject({
      workflowId: "mtor-r123",
      taskQueue: "night-demo",
      workflowIdConflictPolicy: "USE_EXISTING",
      workflowIdReusePolicy: "REJECT_DUPLICATE",
      args: [{ run, timing: { heartbeatTimeoutMs: 60_000 } }],
    });
  });

  it("a re-claim of a run whose workflow already exists attaches to it instead of starting another", async () => {
    const run = makeRun("commits", { runId: "r124" });
    const { client, calls } = fakeClient({ existing: true, result: async () => passed(run.lease.token) });
    const engine = new TemporalEngine({ client, taskQueuePrefix: "mtor" });
    const result = await engine.start(run).done;
    expect(result.verdict.outcome).toBe("passed");
    expect(calls.filter((c) => c.op === "start")).toHaveLength(1);
    expect(calls.find((c) => c.op === "getHandle")?.args).toEqual(["mtor-r124"]);
  });

  it("a lost lease stops the workflow (signal the reason, then cancel) and ends with the workflow's verdict", async () => {
    const run = makeRun("slow", { runId: "r125" });
    let finish: (r: SpecRunResult) => void = () => {};
    const stoppedResult: SpecRunResult = {
      verdict: {
        token: run.lease.token,
        outcome: "failed",
        flags: [],
        failure: { kind: "lost_lease", message: "lease lost; run abandoned" },
        duration_ms: 7,
      },
      report: { accepted: false, reason: "lease_lost", detail: "lease_lost" },
      stopped: "lost_lease",
    };
    const { client, calls } = fakeClient({
      // The server answers the awaiting client as a cancelled workflow (no return value); the
      // result query answers with the verdict the workflow built before it ended.
      result: () =>
        new Promise<SpecRunResult>((_, reject) => {
          finish = () =>
            reject(
              new WorkflowFailedError(
                "Workflow execution cancelled",
                new CancelledFailure("Workflow canceled"),
                RetryState.NON_RETRYABLE_FAILURE,
              ),
            );
        }),
      queried: () => stoppedResult,
    });
    const renewals: string[] = [];
    const engine = new TemporalEngine({
      client,
      taskQueuePrefix: "mtor",
      heartbeatMs: 20,
      renewLease: async (_run, phase) => {
        renewals.push(phase);
        return "lost";
      },
    });
    const handle = engine.start(run);
    await waitUntil(() => calls.some((c) => c.op === "cancel"));
    const ops = calls.filter((c) => c.op === "signal" || c.op === "cancel");
    expect(ops.slice(0, 2)).toEqual([
      { op: "signal", args: ["mtor-r125", "stop", "lost_lease"] },
      { op: "cancel", args: ["mtor-r125"] },
    ]);
    // The lease heartbeat carries the workflow's phase, read with the phase query.
    expect(renewals[0]).toBe("harness");
    finish(stoppedResult);
    const result = await handle.done;
    expect(result.verdict.failure?.kind).toBe("lost_lease");
    expect(result.report).toEqual({ accepted: false, reason: "lease_lost", detail: "lease_lost" });
    expect(calls.some((c) => c.op === "query" && c.args[1] === "result")).toBe(true);
  });

  it("once the workflow is reporting its verdict, the lease is left alone: a finished run is never stopped", async () => {
    const run = makeRun("commits", { runId: "r128" });
    let finish: (r: SpecRunResult) => void = () => {};
    let phase = "harness";
    const { client, calls } = fakeClient({
      result: () => new Promise<SpecRunResult>((resolve) => (finish = resolve)),
      phase: () => phase,
    });
    const renewals: string[] = [];
    const engine = new TemporalEngine({
      client,
      taskQueuePrefix: "mtor",
      heartbeatMs: 10,
      // The control plane has the verdict: the run's lease is gone.
      renewLease: async (_run, p) => {
        renewals.push(p);
        return phase === "reporting" ? "lost" : "held";
      },
    });
    const handle = engine.start(run);
    await waitUntil(() => renewals.length > 0);
    phase = "reporting";
    const queries = () => calls.filter((c) => c.op === "query").length;
    const seen = queries();
    await waitUntil(() => queries() > seen + 3);
    finish(passed(run.lease.token));
    expect((await handle.done).verdict.outcome).toBe("passed");
    expect(renewals).not.toContain("reporting");
    expect(calls.filter((c) => c.op === "signal" || c.op === "cancel")).toEqual([]);
  });

  it("a workflow cancelled before it built a verdict fails the run's handle (the lease then expires)", async () => {
    const run = makeRun("slow", { runId: "r127" });
    const { client } = fakeClient({
      result: async () => {
        throw new WorkflowFailedError(
          "Workflow execution cancelled",
          new CancelledFailure("Workflow canceled"),
          RetryState.NON_RETRYABLE_FAILURE,
        );
      },
      queried: () => null,
    });
    const engine = new TemporalEngine({ client, taskQueuePrefix: "mtor" });
    await expect(engine.start(run).done).rejects.toThrow(/cancelled/);
  });

  it("a drain stop from the daemon reaches the workflow as a stop signal", async () => {
    const run = makeRun("slow", { runId: "r126" });
    const { client, calls } = fakeClient({ result: () => new Promise<SpecRunResult>(() => {}) });
    const engine = new TemporalEngine({ client, taskQueuePrefix: "mtor" });
    const handle = engine.start(run);
    handle.stop("drain");
    await waitUntil(() => calls.some((c) => c.op === "cancel"));
    expect(calls.find((c) => c.op === "signal")?.args).toEqual(["mtor-r126", "stop", "drain"]);
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
