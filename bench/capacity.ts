// Control-plane capacity: one Fleet in local workerd, seeded in bulk with finished history and
// queued specs; sustained claim/heartbeat/verdict ops/s, and p99 of a list page and of one
// monitor pass as the history grows.
import { hostname } from "node:os";
import { ExecutorClient } from "@mtor/schema";
import { benchStack, EXECUTOR_KEY, percentile, round, type Stack } from "./lib";

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
  /** One client alone, request after request: what one op costs without contention. */
  serial_heartbeat_p50_ms: number;
  serial_claim_p50_ms: number;
}

async function seed(stack: Stack, body: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${stack.cp.url}/__test/seed`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`/__test/seed answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { specs: number }).specs;
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
    total = await seed(stack, { history: size - total });
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
  const template = await stack.dispatch(
    "---\ntitle: capacity template\nrepo: bench\nprovider: cap\nstop: none\n---\ncapacity\n",
  );
  await seed(stack, { template, queued: queued - 1 });
  const clients = 8;
  const client = new ExecutorClient({
    url: stack.cp.url,
    keyId: EXECUTOR_KEY.id,
    secret: EXECUTOR_KEY.secret,
  });
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
  const seconds = opts.quick ? 4 : 20;
  let ops = 0;
  let errors = 0;
  const lat = { claim: [] as number[], heartbeat: [] as number[], verdict: [] as number[] };
  const timed = async <T>(kind: keyof typeof lat, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const r = await fn();
    lat[kind].push(performance.now() - t);
    return r;
  };
  const deadline = Date.now() + seconds * 1000;
  const t0 = performance.now();
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
  await Promise.all(Array.from({ length: clients }, (_, i) => worker(i)));
  const elapsed = (performance.now() - t0) / 1000;
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
  const serialClaims: number[] = [];
  for (let i = 0; i < (opts.quick ? 10 : 30); i++) {
    const t = performance.now();
    const c = await client.claim({ executor: { ...solo, id: "cap-solo-claims" }, free: 1, wait_s: 0 });
    serialClaims.push(performance.now() - t);
    for (const run of c.ok ? c.data.runs : []) {
      await client.verdict(run.run_id, {
        token: run.lease.token,
        outcome: "passed",
        flags: [],
        duration_ms: 1,
      });
    }
  }
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
    list_growth: round(last.list_p99_ms / first.list_p99_ms),
    monitor_growth: round(last.monitor_p99_ms / first.monitor_p99_ms),
    mixed,
    serial_heartbeat_p50_ms: p50(serial),
    serial_claim_p50_ms: p50(serialClaims),
  };
}
