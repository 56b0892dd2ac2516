// Pickup latency: dispatch-to-claim with long-polling executor clients on the real control
// plane, side by side with BullMQ's enqueue-to-worker pickup on a local redis, one job at a time.
import { hostname } from "node:os";
import { ExecutorClient } from "@mtor/schema";
import { Queue, Worker } from "bullmq";
import { benchStack, EXECUTOR_KEY, median, percentile, round, seedFleet } from "./lib";
import { startRedis } from "./redis";

export interface PickupResult {
  samples: number;
  /** Queued specs for a lane no claimer serves, sitting in the queue throughout. */
  backlog: number;
  mtor_ms: { p50: number; p99: number };
  bullmq_ms: { p50: number; p99: number };
  ratio_p50: number;
  ratio_p99: number;
}

export async function runPickup(opts: {
  quick: boolean;
  log?: (line: string) => void;
}): Promise<PickupResult> {
  const log = opts.log ?? (() => {});
  const n = opts.quick ? 30 : 300;
  const backlog = opts.quick ? 1_000 : 10_000;
  const mtor = await mtorPickup(n, backlog);
  log(`pickup: mtor p50 ${round(median(mtor))} ms over ${n}`);
  const bull = await bullPickup(n);
  log(`pickup: bullmq p50 ${round(median(bull))} ms over ${n}`);
  const m = { p50: round(median(mtor)), p99: round(percentile(mtor, 99)) };
  const b = { p50: round(median(bull)), p99: round(percentile(bull, 99)) };
  return {
    samples: n,
    backlog,
    mtor_ms: m,
    bullmq_ms: b,
    ratio_p50: round(m.p50 / b.p50),
    ratio_p99: round(m.p99 / b.p99),
  };
}

async function mtorPickup(n: number, backlog: number): Promise<number[]> {
  const stack = await benchStack("pickup");
  // A backlog the claimers do not serve: a claim must find new work without reading through it.
  const template = await stack.dispatch(
    "---\ntitle: pickup backlog\nrepo: backlog\nprovider: pickup\npriority: 9\nstop: none\n---\nbacklog\n",
  );
  await seedFleet(stack, { template, queued: backlog - 1 });
  const client = new ExecutorClient({
    url: stack.cp.url,
    keyId: EXECUTOR_KEY.id,
    secret: EXECUTOR_KEY.secret,
  });
  const waiting = new Map<string, (at: number) => void>();
  // A claim may answer before the dispatch's own answer is read.
  const early = new Map<string, number>();
  let stopping = false;
  const abort = new AbortController();
  const claimer = async (id: string) => {
    const executor = {
      id,
      host: hostname(),
      version: "bench",
      arch: process.arch,
      capacity: 4,
      providers: ["pickup"],
      repos: ["bench"],
      load: { cpu: 0, mem_free: 0.9 },
    };
    while (!stopping) {
      const res = await client.claim({ executor, free: 1, wait_s: 10 }, abort.signal).catch(() => null);
      const at = performance.now();
      if (!res?.ok) continue;
      for (const run of res.data.runs) {
        const resolve = waiting.get(run.spec_id);
        if (resolve) resolve(at);
        else early.set(run.spec_id, at);
        const v = await client.verdict(run.run_id, {
          token: run.lease.token,
          outcome: "passed",
          flags: [],
          duration_ms: 1,
        });
        if (!v.ok) throw new Error(`verdict answered ${v.status} ${v.error.code}: ${v.error.message}`);
      }
    }
  };
  // Two executors long-poll; the provider exists once they have asked.
  const claimers = [claimer("pickup-a"), claimer("pickup-b")];
  await stack.api("PUT", "/v1/providers/pickup", { slots: 4 });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < n + 5; i++) {
      const t0 = performance.now();
      let resolveClaim: (at: number) => void = () => {};
      const claimed = new Promise<number>((r) => {
        resolveClaim = r;
      });
      const res = await stack.api<{ id: string }>(
        "POST",
        "/v1/specs",
        `---\ntitle: pickup ${i}\nrepo: bench\nprovider: pickup\nstop: none\n---\npickup ${i}\n`,
      );
      if (res.status !== 201) throw new Error(`dispatch answered ${res.status}`);
      const seen = early.get(res.body.id);
      if (seen !== undefined) resolveClaim(seen);
      else waiting.set(res.body.id, resolveClaim);
      const at = await claimed;
      // The first few warm the path up.
      if (i >= 5) latencies.push(at - t0);
    }
  } finally {
    stopping = true;
    abort.abort();
    await Promise.allSettled(claimers);
  }
  return latencies;
}

async function bullPickup(n: number): Promise<number[]> {
  const redis = await startRedis();
  const connection = { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null };
  const queue = new Queue("pickup", { connection });
  const waiting = new Map<string, (at: number) => void>();
  const handler = async (job: { id?: string }) => {
    const at = performance.now();
    if (job.id) waiting.get(job.id)?.(at);
  };
  const workers = [
    new Worker("pickup", handler, { connection }),
    new Worker("pickup", handler, { connection }),
  ];
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const latencies: number[] = [];
  try {
    for (let i = 0; i < n + 5; i++) {
      const id = `job-${i}`;
      const claimed = new Promise<number>((r) => waiting.set(id, r));
      const t0 = performance.now();
      await queue.add("pickup", { i }, { jobId: id, removeOnComplete: true });
      const at = await claimed;
      if (i >= 5) latencies.push(at - t0);
    }
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await queue.close();
    await redis.stop();
  }
  return latencies;
}
