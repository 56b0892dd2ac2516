// `npm run chaos [-- --quick]`: the real local stack under injected faults, checked from the
// control plane's own records and the bare origin's refs. Writes bench/chaos.json.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { SpecDetail } from "@mtor/schema";
import { Webhook } from "standardwebhooks";
import { startDemoProvider } from "../executor/src/demo/provider";
import {
  BENCH_DIR,
  benchStack,
  cleanupAll,
  type ExecutorProcess,
  every,
  hookSignals,
  makeOrigin,
  onCleanup,
  type Stack,
  setClockRate,
  sleep,
  startExecutor,
  writeBenchConfig,
} from "./lib";
import { startLossyProxy } from "./lossy-proxy";
import { CONTROL_PLANE_RATE, seededRandomFor } from "./profiles";

const FINAL = new Set(["awaiting_review", "approved", "declined", "rejected", "dead", "canceled"]);
const KILL_POINTS = ["claim", "preflight", "harness", "gates", "push", "verdict"] as const;

interface Guarantees {
  specs: number;
  final: number;
  lost: number;
  /** Final specs held `dead`: with attempts to spare, after lost leases in a row that weigh three. */
  dead: number;
  attempts_with_two_accepted_verdicts: number;
  attempts_with_two_runs: number;
  branches_pushed_for_lost_lease: number;
  /** Refs on the origin whose run ended with a lost lease, pushed before or after the loss. */
  branches_of_lost_lease_runs: number;
  /** Context: runs the control plane ended for a lost lease, and mtor/ branches on the origin. */
  runs_lost_lease: number;
  runs_ended_by_restarted_executor: number;
  /** Runs the control plane ended at a restarted executor's first claim (the boot it replaced). */
  runs_released_at_restart: number;
  branches: number;
}

/** Checks the promises from the control plane's records and the origin's branches. */
function check(
  details: SpecDetail[],
  ids: string[],
  branches: Record<string, string>,
  pushes?: { at: (branch: string) => number | null; fleetToReal: (iso: string) => number },
): Guarantees {
  const byId = new Map(details.map((d) => [d.id, d]));
  let twoAccepted = 0;
  let twoRuns = 0;
  let pushedLost = 0;
  const runByBranch = new Map<string, SpecDetail["runs"][number]>();
  for (const d of details) {
    const perAttempt = new Map<number, SpecDetail["runs"]>();
    for (const r of d.runs) {
      perAttempt.set(r.attempt, [...(perAttempt.get(r.attempt) ?? []), r]);
      runByBranch.set(`mtor/${d.id}-${r.attempt}`, r);
    }
    for (const runs of perAttempt.values()) {
      if (runs.length > 1) twoRuns++;
      // A verdict the control plane accepted from an executor: a finished run it did not end itself.
      const accepted = runs.filter(
        (r) =>
          r.outcome !== null && r.failure?.kind !== "lost_lease" && !/lease/.test(r.failure?.message ?? ""),
      );
      if (accepted.length > 1) twoAccepted++;
    }
  }
  let refsOfLostRuns = 0;
  for (const branch of Object.keys(branches)) {
    if (!branch.startsWith("mtor/")) continue;
    const run = runByBranch.get(branch);
    if (!run || !(run.failure?.kind === "lost_lease" || /lease/.test(run.failure?.message ?? ""))) continue;
    refsOfLostRuns++;
    // With the origin's reflog: only a push after the lease was lost breaks the promise (a
    // push under a valid lease, then a kill before the verdict, is allowed). 1 s resolution.
    const at = pushes?.at(branch) ?? null;
    if (!pushes || at === null || !run.finished_at || at > pushes.fleetToReal(run.finished_at) + 1000)
      pushedLost++;
  }
  return {
    specs: ids.length,
    final: ids.filter((id) => FINAL.has(byId.get(id)?.status ?? "")).length,
    lost: ids.filter((id) => !byId.has(id)).length,
    dead: ids.filter((id) => byId.get(id)?.status === "dead").length,
    attempts_with_two_accepted_verdicts: twoAccepted,
    attempts_with_two_runs: twoRuns,
    branches_pushed_for_lost_lease: pushedLost,
    branches_of_lost_lease_runs: refsOfLostRuns,
    runs_lost_lease: details.flatMap((d) => d.runs).filter((r) => r.failure?.kind === "lost_lease").length,
    runs_ended_by_restarted_executor: details
      .flatMap((d) => d.runs)
      .filter((r) => /executor stopped while the run/.test(r.failure?.message ?? "")).length,
    runs_released_at_restart: details
      .flatMap((d) => d.runs)
      .filter((r) => /^executor \S+ restarted: /.test(r.failure?.message ?? "")).length,
    branches: Object.keys(branches).filter((b) => b.startsWith("mtor/")).length,
  };
}

async function waitAllFinal(stack: Stack, ids: string[], timeoutMs: number): Promise<SpecDetail[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await stack.api<{ specs: { id: string; status: string }[] }>("GET", "/v1/specs?count=200");
    const open = (res.body.specs ?? []).filter((s) => ids.includes(s.id) && !FINAL.has(s.status)).length;
    if (open === 0 || Date.now() > deadline) break;
    await sleep(500);
  }
  const out: SpecDetail[] = [];
  for (const id of ids) {
    const r = await stack.api<SpecDetail>("GET", `/v1/specs/${id}`);
    if (r.status === 200) out.push(r.body);
  }
  return out;
}

async function dispatchSpecs(stack: Stack, n: number, tag: string, durationMs: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(
      await stack.dispatch(
        `---\ntitle: ${tag} ${i}\nrepo: bench\nattempts: 20\nstop: one commit\n---\n${tag} ${i}\n\nbench-duration-ms=${durationMs}\n`,
      ),
    );
  }
  return ids;
}

// ---------------------------------------------------------------- executors killed at random points

async function killsAtRandomPoints(kills: number, log: (l: string) => void) {
  const stack = await benchStack("chaos-kill");
  const origin = makeOrigin(stack.root, "bench");
  const demo = await startDemoProvider({});
  onCleanup(() => demo.close());
  const ex: { config: string; workdir: string; proc: ExecutorProcess }[] = [];
  for (let i = 0; i < 2; i++) {
    const workdir = join(stack.root, "executors", `k${i}`);
    const config = writeBenchConfig(join(stack.root, "configs"), {
      id: `chaos-${i}`,
      controlPlane: stack.cp.url,
      workdir,
      repos: { bench: origin.path },
      // Four provider names on one demo model: each kill halves only one provider's slots.
      providers: { steady: demo.url, steady2: demo.url, steady3: demo.url, steady4: demo.url },
      capacity: 4,
      heartbeatS: 0.5,
    });
    ex.push({ config, workdir, proc: startExecutor(config, workdir) });
  }
  await sleep(1500);
  execFileSync("git", ["-C", origin.path, "config", "core.logAllRefUpdates", "always"]);
  const pinMs = Date.now();
  await setClockRate(stack, CONTROL_PLANE_RATE);
  const pushes = {
    fleetToReal: (iso: string) => pinMs + (Date.parse(iso) - pinMs) / CONTROL_PLANE_RATE,
    at: (branch: string): number | null => {
      try {
        const out = execFileSync(
          "git",
          ["-C", origin.path, "reflog", "show", "--date=unix", "--format=%gd", `refs/heads/${branch}`],
          {
            encoding: "utf8",
          },
        );
        const first = /@\{(\d+)\}/.exec(out.trim().split("\n").at(-1) ?? "");
        return first ? Number(first[1]) * 1000 : null;
      } catch {
        return null;
      }
    },
  };
  const stopTicker = every(300, () => stack.cp.tick());
  onCleanup(stopTicker);
  const random = seededRandomFor(9);
  // Enough work that some executor is always at some point of a run.
  const ids = await dispatchSpecs(stack, Math.max(6, kills), "chaos kill", 600);
  const done: Record<string, number> = {};
  const total = () => Object.values(done).reduce((a, b) => a + b, 0);
  const giveUp = Date.now() + 15 * 60_000;
  for (let k = 0; total() < kills && Date.now() < giveUp; k++) {
    const point = KILL_POINTS[k % KILL_POINTS.length] as (typeof KILL_POINTS)[number];
    const from = ex.map((e) => e.proc.lines.length);
    const pattern =
      point === "claim" || point === "preflight"
        ? / claimed: /
        : point === "harness"
          ? / preflight ok/
          : point === "gates" || point === "push"
            ? / harness \S+ ok/
            : / done: /;
    const extra = point === "preflight" ? 150 : point === "push" ? 250 : 0;
    // The first executor to reach the point is the one killed there.
    const t0 = Date.now();
    let victim: (typeof ex)[number] | undefined;
    while (Date.now() - t0 < 10_000 && !victim) {
      victim = ex.find((e, i) => e.proc.lines.slice(from[i]).some((l) => pattern.test(l)));
      if (!victim) await sleep(20);
    }
    if (!victim) {
      // Nothing left to interrupt: more work for the next kills.
      if (ids.length < kills * 2) ids.push(...(await dispatchSpecs(stack, 2, `chaos kill more ${k}`, 600)));
      continue;
    }
    await sleep(extra + Math.floor(random() * 100));
    await victim.proc.kill("SIGKILL");
    done[point] = (done[point] ?? 0) + 1;
    victim.proc = startExecutor(victim.config, victim.workdir);
  }
  log(`chaos: ${total()} SIGKILLs (${JSON.stringify(done)}) over ${ids.length} specs`);
  // Many failed attempts mean long backoffs (doubling to 30 min on the control plane's clock).
  const settleFrom = Date.now();
  const details = await waitAllFinal(stack, ids, kills > 10 ? 480_000 : 240_000);
  const settleS = Math.round((Date.now() - settleFrom) / 1000);
  await stopTicker();
  return { kills_by_point: done, settle_s: settleS, ...check(details, ids, origin.branches(), pushes) };
}

// ---------------------------------------------------------------- control plane restarts

async function controlPlaneRestarts(restarts: number, log: (l: string) => void) {
  const stack = await benchStack("chaos-restart");
  const origin = makeOrigin(stack.root, "bench");
  const demo = await startDemoProvider({});
  onCleanup(() => demo.close());
  const procs: ExecutorProcess[] = [];
  for (let i = 0; i < 2; i++) {
    const workdir = join(stack.root, "executors", `r${i}`);
    const config = writeBenchConfig(join(stack.root, "configs"), {
      id: `restart-${i}`,
      controlPlane: stack.cp.url,
      workdir,
      repos: { bench: origin.path },
      providers: { steady: demo.url },
      capacity: 2,
      heartbeatS: 1,
    });
    procs.push(startExecutor(config, workdir));
  }
  const ids = await dispatchSpecs(stack, restarts * 3, "chaos restart", 1500);
  for (let i = 0; i < restarts; i++) {
    await sleep(2500);
    await stack.cp.restart();
    log(`chaos: control plane restarted (${i + 1}/${restarts})`);
  }
  const details = await waitAllFinal(stack, ids, 180_000);
  return { restarts, ...check(details, ids, origin.branches()) };
}

// ---------------------------------------------------------------- webhook receiver outage

async function webhookOutage(specs: number, log: (l: string) => void) {
  const stack = await benchStack("chaos-webhook");
  const origin = makeOrigin(stack.root, "bench");
  const demo = await startDemoProvider({});
  onCleanup(() => demo.close());
  // Down from the first event on, for a stretch, then back.
  const downFor = 4000;
  let downUntil = 0;
  let secret = "";
  const receipts: { id: string; verified: boolean; answered: number }[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (downUntil === 0) downUntil = Date.now() + downFor;
      if (Date.now() < downUntil) {
        req.socket.destroy();
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      let verified = false;
      try {
        new Webhook(secret).verify(body, req.headers as Record<string, string>);
        verified = true;
      } catch {
        verified = false;
      }
      receipts.push({ id: String(req.headers["webhook-id"] ?? ""), verified, answered: 204 });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  onCleanup(() => new Promise<void>((r) => receiver.close(() => r())));
  const port = (receiver.address() as AddressInfo).port;
  const created = await stack.api<{ id: string; secret: string }>("POST", "/v1/webhooks", {
    url: `http://127.0.0.1:${port}/hook`,
    events: ["spec.verdict", "spec.failed", "spec.dead"],
  });
  if (created.status !== 201)
    throw new Error(`POST /v1/webhooks answered ${created.status}: ${JSON.stringify(created.body)}`);
  secret = created.body.secret;
  const workdir = join(stack.root, "executors", "w0");
  const config = writeBenchConfig(join(stack.root, "configs"), {
    id: "webhook-0",
    controlPlane: stack.cp.url,
    workdir,
    repos: { bench: origin.path },
    providers: { steady: demo.url },
    capacity: 2,
    heartbeatS: 1,
  });
  startExecutor(config, workdir);
  const ids = await dispatchSpecs(stack, specs, "chaos webhook", 200);
  await waitAllFinal(stack, ids, 120_000);
  log(`chaos: webhook receiver was down for ${downFor} ms from the first event`);
  type Delivery = { id: string; status: string; attempts: number };
  let deliveries: Delivery[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await stack.api<{ deliveries?: Delivery[] } | Delivery[]>(
      "GET",
      `/v1/webhooks/${created.body.id}/deliveries?count=200`,
    );
    deliveries = Array.isArray(res.body) ? res.body : (res.body.deliveries ?? []);
    if (deliveries.length >= ids.length && deliveries.every((d) => d.status === "delivered")) break;
    await sleep(500);
  }
  const perId = new Map<string, number>();
  for (const r of receipts) perId.set(r.id, (perId.get(r.id) ?? 0) + 1);
  const delivered = deliveries.filter((d) => d.status === "delivered");
  return {
    specs: ids.length,
    down_ms: downFor,
    events: deliveries.length,
    delivered: delivered.length,
    retried: deliveries.filter((d) => d.attempts > 1).length,
    not_delivered: deliveries.length - delivered.length,
    delivered_not_received_once: delivered.filter((d) => perId.get(d.id) !== 1).length,
    received_twice: [...perId.values()].filter((n) => n > 1).length,
    received_unknown: [...perId.keys()].filter((id) => !deliveries.some((d) => d.id === id)).length,
    signatures_failed: receipts.filter((r) => !r.verified).length,
  };
}

// ---------------------------------------------------------------- lossy proxy

async function lossyProxyNight(specs: number, log: (l: string) => void) {
  const stack = await benchStack("chaos-proxy");
  const origin = makeOrigin(stack.root, "bench");
  const demo = await startDemoProvider({});
  onCleanup(() => demo.close());
  const proxy = await startLossyProxy(stack.cp.url, { faultRate: 0.1, maxDelayMs: 1500, seed: 10 });
  onCleanup(() => proxy.close());
  for (let i = 0; i < 2; i++) {
    const workdir = join(stack.root, "executors", `p${i}`);
    const config = writeBenchConfig(join(stack.root, "configs"), {
      id: `proxy-${i}`,
      controlPlane: proxy.url,
      workdir,
      repos: { bench: origin.path },
      providers: { steady: demo.url },
      capacity: 2,
      heartbeatS: 0.5,
      claimWaitS: 2,
    });
    startExecutor(config, workdir);
  }
  await sleep(1500);
  await setClockRate(stack, CONTROL_PLANE_RATE);
  const stopTicker = every(300, () => stack.cp.tick());
  onCleanup(stopTicker);
  const ids = await dispatchSpecs(stack, specs, "chaos proxy", 500);
  const details = await waitAllFinal(stack, ids, 240_000);
  await stopTicker();
  log(`chaos: lossy proxy ${JSON.stringify(proxy.counts)}`);
  return { proxy: { ...proxy.counts }, ...check(details, ids, origin.branches()) };
}

export async function runChaos(opts: { quick: boolean; log?: (l: string) => void }) {
  const log = opts.log ?? ((l: string) => console.log(l));
  hookSignals();
  const started = Date.now();
  try {
    const kills = await killsAtRandomPoints(opts.quick ? 6 : 50, log);
    await cleanupAll();
    const restarts = await controlPlaneRestarts(opts.quick ? 2 : 5, log);
    await cleanupAll();
    const webhooks = await webhookOutage(opts.quick ? 6 : 20, log);
    await cleanupAll();
    const proxy = await lossyProxyNight(opts.quick ? 6 : 30, log);
    await cleanupAll();
    const results = {
      at: new Date().toISOString(),
      mode: opts.quick ? "quick" : "full",
      wall_s: Math.round((Date.now() - started) / 1000),
      executor_kills: kills,
      control_plane_restarts: restarts,
      webhook_outage: webhooks,
      lossy_proxy: proxy,
    };
    const guarantees = [kills, restarts, proxy];
    const violations =
      guarantees.reduce(
        (n, g) =>
          n +
          g.lost +
          (g.specs - g.final) +
          g.attempts_with_two_accepted_verdicts +
          g.attempts_with_two_runs +
          g.branches_pushed_for_lost_lease,
        0,
      ) +
      webhooks.not_delivered +
      webhooks.delivered_not_received_once +
      webhooks.received_twice +
      webhooks.received_unknown +
      webhooks.signatures_failed;
    Object.assign(results, { violations });
    const out = join(BENCH_DIR, opts.quick ? "chaos.quick.json" : "chaos.json");
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    log(JSON.stringify(results, null, 2));
    log(`written to ${out}`);
    return results;
  } finally {
    await cleanupAll();
  }
}

if (process.argv[1] && /bench[/\\]chaos\.ts$/.test(process.argv[1])) {
  runChaos({ quick: process.argv.includes("--quick") }).then(
    (r) => {
      const violations = (r as { violations?: number }).violations ?? 0;
      console.log(
        violations === 0 ? "chaos: every guarantee held" : `chaos: ${violations} guarantee violations`,
      );
      process.exit(violations === 0 ? 0 : 1);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
