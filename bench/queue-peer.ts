// A Temporal-less peer queue running the same executor steps: BullMQ on a local redis-server,
// its Worker driving runSteps (executor/src/engine/run-steps.ts) with the executor's own
// activities, harness, gates and push. What it lacks is mtor's control plane (leases, the
// dispatch rule, slots, breaker): the verdict is the job's return value. A run's time is
// BullMQ's own, from the job's enqueue (`timestamp`) to its end (`finishedOn`).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type ClaimedRun, DEFAULT_GATES, parseSpec, type VerdictRequest } from "@mtor/schema";
import { Job, Queue, QueueEvents, Worker } from "bullmq";
import { loadConfig } from "../executor/src/config";
import { VerdictSpool } from "../executor/src/daemon/spool";
import { defaultWiring } from "../executor/src/daemon/wiring";
import { createActivities } from "../executor/src/engine/activities";
import { runSteps } from "../executor/src/engine/run-steps";
import { EXECUTOR_KEY, onCleanup } from "./lib";
import { startRedis } from "./redis";

export interface QueuePeerResult {
  runs: number;
  /** Median enqueue → end of job, ms. */
  run_ms: number;
  outcomes: string[];
}

/**
 * Runs `count` specs (`specText(i)`) one at a time through BullMQ, each job one run of the
 * executor's steps under the executor config in `configFile` (its repo `repo`, provider
 * `provider`).
 */
export async function runQueuePeer(opts: {
  configFile: string;
  workdir: string;
  repo: string;
  provider: string;
  count: number;
  specText: (i: number) => string;
  log?: (line: string) => void;
}): Promise<QueuePeerResult> {
  const log = opts.log ?? (() => {});
  const redis = await startRedis();
  const connection = { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null };
  const config = loadConfig(opts.configFile, {
    ...process.env,
    MTOR_EXECUTOR_SECRET: EXECUTOR_KEY.secret,
    MTOR_E2E_PROVIDER_TOKEN: "demo-token",
    MTOR_WORKDIR: opts.workdir,
  });
  mkdirSync(opts.workdir, { recursive: true });
  const wiring = await defaultWiring(config);
  // No control plane: the spool's client takes the verdict as accepted.
  const spool = new VerdictSpool({
    dir: join(opts.workdir, "spool"),
    client: { verdict: async () => ({ ok: true, status: 200, data: { status: "awaiting_review" } }) },
  });
  const acts = createActivities({ config, spool, ...wiring });

  const queue = new Queue<{ run: ClaimedRun }, VerdictRequest>("mtor-peer", { connection });
  const events = new QueueEvents("mtor-peer", { connection });
  const worker = new Worker<{ run: ClaimedRun }, VerdictRequest>(
    "mtor-peer",
    async (job: Job<{ run: ClaimedRun }>) => {
      const run = job.data.run;
      const result = await runSteps(
        {
          prepareWorktree: (r) => acts.prepareWorktree(r),
          preflight: (r) => acts.preflight(r),
          runHarness: (r, p, cleared) => acts.runHarness(r, p, undefined, cleared),
          checkOrigin: (r, p) => acts.checkOrigin(r, p),
          runGates: (r, p, h, origin) =>
            acts.runGates(
              r,
              p,
              h,
              undefined,
              origin.then((o) => o.baseTip),
            ),
          pushBranch: (r, p) => acts.pushBranch(r, p),
          reportVerdict: (r, v) => acts.reportVerdict(r, v),
          cleanup: (r, p, keep) => acts.cleanup(r, p, keep),
        },
        run,
        {
          now: Date.now,
          classify: (err) => ({
            error: { kind: "internal", message: (err as Error)?.message ?? String(err) },
          }),
        },
      );
      return result.verdict;
    },
    { connection, concurrency: 1 },
  );
  onCleanup(async () => {
    await worker.close();
    await events.close();
    await queue.close();
    await redis.stop();
  });
  await Promise.all([worker.waitUntilReady(), events.waitUntilReady()]);

  const times: number[] = [];
  const outcomes: string[] = [];
  for (let i = 0; i < opts.count; i++) {
    const parsed = parseSpec(opts.specText(i));
    if (!parsed.ok) throw new Error(`queue peer: spec ${i} does not parse: ${JSON.stringify(parsed.errors)}`);
    const run: ClaimedRun = {
      run_id: `peer${process.pid}x${i}`,
      spec_id: `peer${String(i).padStart(4, "0")}`,
      attempt: 1,
      lease: { token: "peer", ttl_s: 90, expires_at: new Date(Date.now() + 3600_000).toISOString() },
      provider: { name: opts.provider, model: "demo", harness: "bench" },
      spec: parsed.spec,
      gates: { ...DEFAULT_GATES },
      feedback: [],
      feedback_flags: [],
      recent_patch_ids: [],
    };
    const job = await queue.add("run", { run });
    const verdict = await job.waitUntilFinished(events, 180_000);
    const done = (await Job.fromId(queue, job.id as string)) as Job;
    const ms = (done.finishedOn as number) - done.timestamp;
    times.push(ms);
    outcomes.push(verdict.outcome);
    log(`queue peer: BullMQ run ${i} enqueue → end ${ms} ms (${verdict.outcome})`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { runs: times.length, run_ms: sorted[Math.floor(sorted.length / 2)] as number, outcomes };
}
