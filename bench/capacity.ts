// Control-plane capacity: one Fleet in local workerd, seeded in bulk with finished history and
// queued specs; sustained claim/heartbeat/verdict ops/s, and p99 of a list page and of one
// monitor pass as the history grows.
import { hostname } from "node:os";
import { ExecutorClient } from "@mtor/schema";
import { benchStack, EXECUTOR_KEY, percentile, round, seedFleet } from "./lib";

export interface CapacityResult {
  sizes: {
    specs: number;
    list_p50_ms: number;
    list_p99_ms: number;
    monitor_p50_ms: number;
    monitor_p99_ms: number;
  }[];
  list_growth: number;
  monitor_growth: number;
  mixed: {
    queued: number;
    history: number;
    ops: number;
    seconds: number;
    ops_per_s: number;
    clients: number;
    errors: number;
    p50_ms: { claim: number; heartbeat: number; verdict: number };
  };
  /** By queued backlog: a status-filtered list page (`?status=queued`) and a short mixed burst. */
  queued_sweep: {
    queued: number;
    queued_list_p50_ms: number;
    queued_list_p99_ms: number;
    /** null at 0 queued: nothing to claim. */
    burst_ops_per_s: number | null;
  }[];
  /** One client alone, request after request: what one op costs without contention. */
  serial_heartbeat_p50_ms: number;
  serial_claim_p50_ms: number;
  /**
   * One client alone, claim after claim (each leased run reported at once), with the history
   * in place: with nothing queued, and with `queued` specs in the queue. The target is a ratio
   * of at most 2: a claim does not grow with the queue.
   */
  claim_by_queue: { empty_p50_ms: number; queued: number; queued_p50_ms: number; ratio: number };
}

async function timeEach(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export async function runCapacity(opts: {
  quick: boolean;
  log?: (line: string) => void;
}): Promise<CapacityResult> {
  const log = opts.log ?? (() => {});
  const stack = await benchStack("capacity");
  const sizes = opts.quick ? [1_000, 5_000] : [1_000, 10_000, 100_000];
  const samples = opts.quick ? 10 : 30;
  const out: CapacityResult["sizes"] = [];
  let total = 0;
  for (const size of sizes) {
    total = await seedFleet(stack, { history: size - total });
    await stack.api("GET", "/v1/specs?count=50");
    const list = await timeEach(samples, () => stack.api("GET", "/v1/specs?count=50"));
    const monitor = await timeEach(samples, () => stack.cp.tick());
    out.push({
      specs: total,
      list_p50_ms: round(percentile(list, 50)),
      list_p99_ms: round(percentile(list, 99)),
      monitor_p50_ms: round(percentile(monitor, 50)),
      monitor_p99_ms: round(percentile(monitor, 99)),
    });
    log(
      `capacity: ${total} specs: list p99 ${round(percentile(list, 99))} ms, monitor p99 ${round(percentile(monitor, 99))} ms`,
    );
  }

  // The mixed load: executors claim one run, beat twice, report it, over a full queue.
  const queued = opts.quick ? 1_000 : 10_000;
  const sweep: CapacityResult["queued_sweep"] = [];
  const queuedList = async (n: number) => {
    await stack.api("GET", "/v1/specs?status=queued&count=50");
    const list = await timeEach(samples, () => stack.api("GET", "/v1/specs?status=queued&count=50"));
    return {
      queued: n,
      queued_list_p50_ms: round(percentile(list, 50)),
      queued_list_p99_ms: round(percentile(list, 99)),
    };
  };
  const empty = await queuedList(0);
  const client = new ExecutorClient({
    url: stack.cp.url,
    keyId: EXECUTOR_KEY.id,
    secret: EXECUTOR_KEY.secret,
  });
  /** One client's claims back to back, each leased run reported passed at once; ms each. */
  const serialClaims = async (n: number): Promise<number[]> => {
    const solo = {
      id: "cap-solo-claims",
      host: hostname(),
      version: "bench",
      arch: process.arch,
      capacity: 1,
      providers: ["cap"],
      repos: ["bench"],
      load: { cpu: 0, mem_free: 0.9 },
    };
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const c = await client.claim({ executor: solo, free: 1, wait_s: 0 });
      out.push(performance.now() - t);
      if (!c.ok) throw new Error(`capacity: a serial claim answered ${c.status}: ${JSON.stringify(c.error)}`);
      for (const run of c.data.runs) {
        await client.verdict(run.run_id, {
          token: run.lease.token,
          outcome: "passed",
          flags: [],
          duration_ms: 1,
        });
      }
    }
    return out;
  };
  // Nothing queued yet, the history in place (the first claim creates the provider).
  await serialClaims(1);
  const claimsEmpty = await serialClaims(samples);
  const template = await stack.dispatch(
    "---\ntitle: capacity template\nrepo: bench\nprovider: cap\nstop: none\n---\ncapacity\n",
  );
  const clients = 8;
  // The provider exists once an executor advertises it; then it gets room for every client.
  const hello = {
    id: "cap-hello",
    host: hostname(),
    version: "bench",
    arch: process.arch,
    capacity: 0,
    providers: ["cap"],
    repos: ["bench"],
    load: { cpu: 0, mem_free: 0.9 },
  };
  await client.claim({ executor: hello, free: 0, wait_s: 0 });
  const put = await stack.api("PUT", "/v1/providers/cap", { slots: 100 });
  if (put.status !== 200)
    throw new Error(`PUT /v1/providers/cap answered ${put.status}: ${JSON.stringify(put.body)}`);
  let ops = 0;
  let errors = 0;
  let lat = { claim: [] as number[], heartbeat: [] as number[], verdict: [] as number[] };
  const timed = async <T>(kind: keyof typeof lat, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const r = await fn();
    lat[kind].push(performance.now() - t);
    return r;
  };
  let deadline = 0;
  const worker = async (i: number) => {
    const executor = {
      id: `cap-${i}`,
      host: hostname(),
      version: "bench",
      arch: process.arch,
      capacity: 4,
      providers: ["cap"],
      repos: ["bench"],
      load: { cpu: 0, mem_free: 0.9 },
    };
    while (Date.now() < deadline) {
      const claim = await timed("claim", () => client.claim({ executor, free: 1, wait_s: 0 }));
      ops++;
      if (!claim.ok) {
        errors++;
        continue;
      }
      for (const run of claim.data.runs) {
        for (let b = 0; b < 2; b++) {
          const hb = await timed("heartbeat", () =>
            client.heartbeat(run.run_id, { token: run.lease.token, phase: "harness", load: executor.load }),
          );
          ops++;
          if (!hb.ok) errors++;
        }
        const v = await timed("verdict", () =>
          client.verdict(run.run_id, {
            token: run.lease.token,
            outcome: "passed",
            flags: [],
            duration_ms: 1,
          }),
        );
        ops++;
        if (!v.ok) errors++;
      }
    }
  };
  /** Runs the clients for `seconds`; answers ops/s. */
  const burst = async (seconds: number): Promise<{ ops: number; errors: number; elapsed: number }> => {
    ops = 0;
    errors = 0;
    lat = { claim: [], heartbeat: [], verdict: [] };
    deadline = Date.now() + seconds * 1000;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: clients }, (_, i) => worker(i)));
    return { ops, errors, elapsed: (performance.now() - t0) / 1000 };
  };
  // The sweep: 0, 1k, 10k, 100k queued (0 and 1k in quick mode); the main mixed load at `queued`.
  const levels = opts.quick ? [1_000] : [1_000, 10_000, 100_000];
  let inQueue = 1;
  let main: { ops: number; errors: number; elapsed: number } | null = null;
  sweep.push({ ...empty, burst_ops_per_s: null });
  let mainLat = lat;
  let claimsQueued: number[] = [];
  for (const level of levels) {
    await seedFleet(stack, { template, queued: Math.max(0, level - inQueue) });
    inQueue = level;
    const list = await queuedList(level);
    if (level === queued) {
      claimsQueued = await serialClaims(samples);
      main = await burst(opts.quick ? 4 : 20);
      mainLat = lat;
    }
    const b = level === queued && main ? main : await burst(opts.quick ? 2 : 5);
    // Claims took some of the queue; put it back to the level for the next step.
    inQueue = level - Math.floor(b.ops / 4);
    sweep.push({ ...list, burst_ops_per_s: round(b.ops / b.elapsed, 1) });
    log(
      `capacity: ${level} queued: status-filtered list p99 ${list.queued_list_p99_ms} ms, ${round(b.ops / b.elapsed, 1)} ops/s`,
    );
  }
  if (!main) throw new Error("capacity: the main mixed load did not run");
  ops = main.ops;
  errors = main.errors;
  const elapsed = main.elapsed;
  lat = mainLat;
  const p50 = (v: number[]) => round(percentile(v, 50));
  const mixed = {
    queued,
    history: total,
    ops,
    seconds: round(elapsed, 1),
    ops_per_s: round(ops / elapsed, 1),
    clients,
    errors,
    p50_ms: { claim: p50(lat.claim), heartbeat: p50(lat.heartbeat), verdict: p50(lat.verdict) },
  };
  // One client, heartbeats on one leased run, back to back.
  const solo = { ...hello, id: "cap-solo", capacity: 1 };
  const one = await client.claim({ executor: solo, free: 1, wait_s: 0 });
  const serial: number[] = [];
  const claimsAfter = await serialClaims(opts.quick ? 10 : 30);
  if (one.ok && one.data.runs[0]) {
    const run = one.data.runs[0];
    for (let i = 0; i < (opts.quick ? 20 : 60); i++) {
      const t = performance.now();
      await client.heartbeat(run.run_id, { token: run.lease.token, phase: "harness", load: solo.load });
      serial.push(performance.now() - t);
    }
  }
  log(`capacity: ${mixed.ops_per_s} mixed ops/s (${clients} clients, ${errors} errors)`);
  const first = out[0] as CapacityResult["sizes"][number];
  const last = out.at(-1) as CapacityResult["sizes"][number];
  return {
    sizes: out,
    queued_sweep: sweep,
    list_growth: round(last.list_p99_ms / first.list_p99_ms),
    monitor_growth: round(last.monitor_p99_ms / first.monitor_p99_ms),
    mixed,
    serial_heartbeat_p50_ms: p50(serial),
    serial_claim_p50_ms: p50(claimsAfter),
    claim_by_queue: {
      empty_p50_ms: p50(claimsEmpty),
      queued,
      queued_p50_ms: p50(claimsQueued),
      ratio: round(percentile(claimsQueued, 50) / percentile(claimsEmpty, 50)),
    },
  };
}
