// The overnight simulation on the real stack: the control plane in local workerd with its
// clock running fast, three demo providers following the night's fault profile, executors
// running the bench agent, one executor SIGKILLed mid-night and restarted.
import { join } from "node:path";
import type { ProviderView, SpecDetail } from "@mtor/schema";
import { type DemoProvider, startDemoProvider } from "../executor/src/demo/provider";
import {
  benchStack,
  type ExecutorProcess,
  every,
  makeOrigin,
  onCleanup,
  round,
  setClockRate,
  sleep,
  startExecutor,
  writeBenchConfig,
} from "./lib";
import {
  CONTROL_PLANE_RATE,
  type NightProfile,
  nightMinToRealMs,
  nightProfile,
  realMsToNightMin,
  taskDurations,
} from "./profiles";

export interface NightResult {
  mode: "mtor";
  specs: number;
  landed: number;
  dead: number;
  night_min: number;
  landed_per_hour: number;
  efficiency: number;
  useful_slot_min: number;
  available_slot_min: number;
  wasted_slot_min: Record<string, number>;
  breaker: { opened_at_min: number | null; failed_preflights_before_open: number | null };
  kill: {
    at_min: number;
    executor: string;
    runs_held: number;
    lease_ended_s: number | null;
    /** How the killed run ended: the lease expiring, or the restarted executor reporting it. */
    ended_by: string | null;
    lease_ended_fleet_s: number | null;
    requeue_s: number | null;
    requeue_fleet_s: number | null;
    bound_fleet_s: number;
  };
  /** Median night-minutes a passed run spent outside its task. */
  run_overhead_min: number;
  control_plane_rate: number;
  wall_s: number;
}

const FINAL = new Set(["awaiting_review", "approved", "declined", "rejected", "dead", "canceled"]);

export async function runNight(opts: { quick: boolean; log?: (line: string) => void }): Promise<NightResult> {
  const log = opts.log ?? (() => {});
  const profile: NightProfile = nightProfile(opts.quick);
  const durations = taskDurations(profile);
  const wallStart = Date.now();
  const stack = await benchStack("night");
  const origin = makeOrigin(stack.root, "bench");

  const providers: Record<string, DemoProvider> = {};
  const startedAt: Record<string, number> = {};
  for (const p of profile.providers) {
    startedAt[p.name] = Date.now();
    const demo = await startDemoProvider({
      seed: profile.seed,
      faults: p.preflightFailRate ? { preflightFailRate: p.preflightFailRate } : undefined,
    });
    onCleanup(() => demo.close());
    providers[p.name] = demo;
  }
  const providerUrls = Object.fromEntries(Object.entries(providers).map(([n, d]) => [n, d.url]));

  const executors: { id: string; config: string; workdir: string; proc: ExecutorProcess }[] = [];
  for (let i = 0; i < 3; i++) {
    const id = `night-${i}`;
    const workdir = join(stack.root, "executors", id);
    const config = writeBenchConfig(join(stack.root, "configs"), {
      id,
      controlPlane: stack.cp.url,
      workdir,
      repos: { bench: origin.path },
      providers: providerUrls,
      capacity: 3,
      heartbeatS: 0.5,
    });
    executors.push({ id, config, workdir, proc: startExecutor(config, workdir) });
  }
  // Wait until every executor has checked in (its providers then exist with 2 slots each).
  for (const e of executors) await e.proc.waitForLine(/claim|polling|waiting|started|executor/i, 60_000);
  for (let t = 0; t < 100; t++) {
    const res = await stack.api<{ providers?: ProviderView[] } | ProviderView[]>("GET", "/v1/providers");
    const list = Array.isArray(res.body) ? res.body : (res.body.providers ?? []);
    if (profile.providers.every((p) => list.some((v) => v.name === p.name))) break;
    await sleep(200);
  }
  for (const p of profile.providers) await stack.api("PUT", `/v1/providers/${p.name}`, { slots: p.slots });

  // The control plane's clock runs fast from here; `fleetToReal` maps its timestamps back.
  const pinMs = Date.now();
  await setClockRate(stack, CONTROL_PLANE_RATE);
  const fleetToReal = (iso: string): number => pinMs + (Date.parse(iso) - pinMs) / CONTROL_PLANE_RATE;

  const ids: string[] = [];
  const t0 = Date.now();
  for (let i = 0; i < profile.specs; i++) {
    const ms = nightMinToRealMs(durations[i] as number);
    ids.push(
      await stack.dispatch(
        `---\ntitle: night task ${i}\nrepo: bench\nattempts: 20\nstop: Stop after one commit.\n---\nDo night task ${i}.\n\nbench-duration-ms=${ms}\n`,
      ),
    );
  }
  log(
    `night: ${profile.specs} specs dispatched in ${Date.now() - t0} ms; night of ~${profile.nominalMin} night-min nominal`,
  );

  // The profile's timed faults.
  const timers: NodeJS.Timeout[] = [];
  for (const p of profile.providers) {
    const demo = providers[p.name] as DemoProvider;
    if (p.preflightFailUntilMin !== undefined) {
      timers.push(setTimeout(() => demo.setFaults(undefined), nightMinToRealMs(p.preflightFailUntilMin)));
    }
    if (p.rateLimitFromMin !== undefined && p.rateLimitUntilMin !== undefined) {
      const until = p.rateLimitUntilMin;
      timers.push(
        setTimeout(() => {
          // rateLimitUntilMs counts from the demo provider's start.
          demo.setFaults({ rateLimitUntilMs: t0 + nightMinToRealMs(until) - (startedAt[p.name] as number) });
        }, nightMinToRealMs(p.rateLimitFromMin)),
      );
    }
  }
  onCleanup(() => timers.forEach(clearTimeout));

  // One monitor pass every 300 ms of real time (10 s on the control plane's clock).
  const stopTicker = every(300, () => stack.cp.tick());
  onCleanup(stopTicker);

  // Provider samples: idle slots by cause.
  const idle: Record<string, number> = {};
  let breakerOpenedAt: number | null = null;
  let lastSample = Date.now();
  const stopSampler = every(250, async () => {
    const res = await stack.api<{ providers?: ProviderView[] } | ProviderView[]>("GET", "/v1/providers");
    const list = Array.isArray(res.body) ? res.body : (res.body.providers ?? []);
    const now = Date.now();
    const dt = now - lastSample;
    lastSample = now;
    const status = await stack.api<{ counts?: Record<string, number> }>("GET", "/v1/status");
    const queued = status.body.counts?.queued ?? 0;
    for (const v of list) {
      if (!profile.providers.some((p) => p.name === v.name)) continue;
      if (v.name === "flaky" && breakerOpenedAt === null && v.breaker.state === "open") breakerOpenedAt = now;
      if (queued === 0) continue;
      const free = Math.max(0, v.slots - v.in_use);
      if (free === 0) continue;
      const cooling =
        v.cooling_until !== null && Date.parse(v.cooling_until) > pinMs + (now - pinMs) * CONTROL_PLANE_RATE;
      const cause =
        v.breaker.state === "open"
          ? "idle: breaker open"
          : cooling
            ? "idle: cooling after 429"
            : v.effective_slots < v.slots
              ? "idle: effective slots lowered"
              : "idle: slot free (claim latency)";
      idle[cause] = (idle[cause] ?? 0) + free * dt;
    }
  });
  onCleanup(stopSampler);

  // Mid-night: SIGKILL one executor and restart it.
  const killAt = t0 + nightMinToRealMs(profile.killAtMin);
  await sleep(Math.max(0, killAt - Date.now()));
  // The victim is an executor holding a run right now (read from its own log, at once).
  const holding = (e: (typeof executors)[number]): string[] => {
    const open = new Map<string, string>();
    for (const l of e.proc.lines) {
      const m = / run (\S+)-(\d+) (claimed|done):/.exec(` ${l}`);
      if (!m) continue;
      if (m[3] === "claimed") open.set(`${m[1]}-${m[2]}`, m[1] as string);
      else open.delete(`${m[1]}-${m[2]}`);
    }
    return [...open.values()];
  };
  let victim = executors[0] as (typeof executors)[number];
  for (let t = 0; t < 100; t++) {
    const busy = executors.find((e) => holding(e).length > 0);
    if (busy) {
      victim = busy;
      break;
    }
    await sleep(100);
  }
  const heldSpecs = holding(victim);
  const killedAt = Date.now();
  await victim.proc.kill("SIGKILL");
  log(
    `night: SIGKILLed ${victim.id} at ${round(realMsToNightMin(killedAt - t0))} night-min holding ${heldSpecs.length} runs`,
  );
  victim.proc = startExecutor(victim.config, victim.workdir);
  const killedId = victim.id;
  const held: string[] = [];
  for (const specId of heldSpecs) {
    const s = await stack.spec(specId);
    const run = s.runs.filter((r) => r.executor === killedId).at(-1);
    if (run) held.push(`${specId} ${run.id}`);
  }
  let requeuedAt: number | null = null;
  let leaseEndedAt: number | null = null;
  let endedBy: string | null = null;
  const heldRuns = held.map((h) => h.split(" ") as [string, string]);
  const watchRequeue = (async () => {
    if (heldRuns.length === 0) return;
    const deadline = Date.now() + 120_000;
    const back = new Set<string>();
    while (Date.now() < deadline && back.size < heldRuns.length) {
      for (const [specId, runId] of heldRuns) {
        if (back.has(specId)) continue;
        const s = await stack.spec(specId);
        const killed = s.runs.find((r) => r.id === runId);
        if (leaseEndedAt === null && killed?.status === "finished") {
          leaseEndedAt = Date.now();
          endedBy = killed.failure
            ? `${killed.failure.kind}: ${killed.failure.message.slice(0, 100)}`
            : (killed.outcome ?? null);
        }
        const claimable =
          s.status === "queued" || s.runs.some((r) => r.id !== runId && Date.parse(r.claimed_at) > 0);
        if (claimable) back.add(specId);
      }
      if (back.size === heldRuns.length) requeuedAt = Date.now();
      else await sleep(100);
    }
  })();

  // Until every spec is final.
  const limit = Date.now() + (opts.quick ? 60_000 : 240_000);
  let details: SpecDetail[] = [];
  for (;;) {
    const res = await stack.api<{ specs: { id: string; status: string }[] }>("GET", "/v1/specs?count=200");
    const open = res.body.specs.filter((s) => !FINAL.has(s.status)).length;
    if (open === 0 || Date.now() > limit) break;
    await sleep(300);
  }
  const tEnd = Date.now();
  await watchRequeue;
  await stopSampler();
  await stopTicker();
  details = await Promise.all(ids.map((id) => stack.spec(id)));
  for (const s of details.filter((d) => !FINAL.has(d.status))) {
    const r = s.runs.at(-1);
    log(
      `night: ${s.id} still ${s.status} at the end (attempt ${s.attempt}, last run on ${r?.provider ?? "-"}: ${r?.outcome ?? r?.status ?? "-"} ${r?.failure?.kind ?? ""}, next attempt ${s.next_attempt_at ?? "-"})`,
    );
  }

  // Slot time from the control plane's own records.
  const runs = details.flatMap((s) => s.runs.map((r) => ({ ...r, spec: s.id })));
  const messages = new Map<string, number>();
  for (const r of runs) {
    if (r.failure && !["preflight", "rate_limited"].includes(r.failure.kind)) {
      const key = `${r.failure.kind}: ${r.failure.message.slice(0, 160)}`;
      messages.set(key, (messages.get(key) ?? 0) + 1);
    }
  }
  for (const [m, n] of messages) log(`night: ${n}× ${m}`);
  // Per passed run, time outside the task itself (worktree, agent start, gates, push, protocol).
  const outside = details.flatMap((s, i) =>
    s.runs
      .filter((r) => r.outcome === "passed" && r.finished_at)
      .map(
        (r) =>
          realMsToNightMin(fleetToReal(r.finished_at as string) - fleetToReal(r.claimed_at)) -
          (durations[i] as number),
      ),
  );
  const runOverheadMin = outside.length
    ? ([...outside].sort((a, b) => a - b)[Math.floor(outside.length / 2)] as number)
    : 0;
  const lastClaim = Math.max(...runs.map((r) => fleetToReal(r.claimed_at)));
  const windowEnd = Math.max(lastClaim, t0 + 1);
  const slotsTotal = profile.providers.reduce((n, p) => n + p.slots, 0);
  const available = slotsTotal * (windowEnd - t0);
  let useful = 0;
  const wasted: Record<string, number> = {};
  for (const r of runs) {
    const a = Math.max(t0, fleetToReal(r.claimed_at));
    const b = Math.min(windowEnd, r.finished_at ? fleetToReal(r.finished_at) : tEnd);
    const span = Math.max(0, b - a);
    if (r.outcome === "passed") useful += span;
    else {
      const cause = `run failed: ${r.failure?.kind ?? r.outcome ?? "unfinished"}`;
      wasted[cause] = (wasted[cause] ?? 0) + span;
    }
  }
  // Idle samples also cover the tail after the last claim, when no work was queued; keep them.
  for (const [cause, ms] of Object.entries(idle)) wasted[cause] = (wasted[cause] ?? 0) + ms;

  const flakyFails = runs
    .filter((r) => r.provider === "flaky" && r.failure?.kind === "preflight" && r.finished_at)
    .map((r) => fleetToReal(r.finished_at as string));
  const failsBeforeOpen =
    breakerOpenedAt === null ? null : flakyFails.filter((t) => t <= (breakerOpenedAt as number)).length;

  const landed = details.filter((s) => ["awaiting_review", "approved"].includes(s.status)).length;
  const nightMin = realMsToNightMin(tEnd - t0);
  const requeueS = requeuedAt === null ? null : ((requeuedAt as number) - killedAt) / 1000;
  const toMin = (ms: number) => round(realMsToNightMin(ms), 1);
  return {
    mode: "mtor",
    specs: profile.specs,
    landed,
    dead: details.filter((s) => s.status === "dead").length,
    night_min: round(nightMin, 1),
    landed_per_hour: round(landed / (nightMin / 60)),
    efficiency: round(useful / available, 3),
    useful_slot_min: toMin(useful),
    available_slot_min: toMin(available),
    wasted_slot_min: Object.fromEntries(Object.entries(wasted).map(([k, v]) => [k, toMin(v)])),
    breaker: {
      opened_at_min: breakerOpenedAt === null ? null : toMin((breakerOpenedAt as number) - t0),
      failed_preflights_before_open: failsBeforeOpen,
    },
    kill: {
      at_min: toMin(killedAt - t0),
      executor: killedId,
      runs_held: heldRuns.length,
      ended_by: endedBy,
      lease_ended_s: leaseEndedAt === null ? null : round(((leaseEndedAt as number) - killedAt) / 1000),
      lease_ended_fleet_s:
        leaseEndedAt === null
          ? null
          : round((((leaseEndedAt as number) - killedAt) / 1000) * CONTROL_PLANE_RATE, 0),
      requeue_s: requeueS === null ? null : round(requeueS),
      requeue_fleet_s: requeueS === null ? null : round(requeueS * CONTROL_PLANE_RATE, 0),
      // Lease TTL (90 s) plus one monitor pass interval (300 ms real here).
      bound_fleet_s: 90 + 0.3 * CONTROL_PLANE_RATE,
    },
    run_overhead_min: round(runOverheadMin, 1),
    control_plane_rate: CONTROL_PLANE_RATE,
    wall_s: round((Date.now() - wallStart) / 1000, 1),
  };
}
