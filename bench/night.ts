import type { ProviderView, SpecDetail } from "@mtor/schema";
import { type DemoProvider, startDemoProvider } from "../executor/src/demo/provider";
import {
  benchStack,
  every,
  makeOrigin,
  onCleanup,
  round,
  type StackExecutor,
  setClockRate,
  sleep,
  startExecutor,
  startStackExecutor,
} from "./lib";
import {
  HEARTBEAT_REAL_S,
  NIGHT_RATE,
  type NightProfile,
  nightMinToRealMs,
  POLICIES,
  type PolicyName,
  realMsToNightMin,
  taskDurations,
} from "./profiles";

/** One run's span on the night's clock, for the slot timeline. */
export interface NightRun {
  spec: number;
  provider: string;
  executor: string;
  from_min: number;
  to_min: number;
  outcome: string;
}

export interface NightResult {
  policy: PolicyName;
  profile: string;
  specs: number;
  window_min: number;
  /** Specs whose passing run ended inside the window. */
  landed: number;
  landed_per_hour: number;
  /** useful ÷ available slot-time: passed runs' slot-time, clipped to the window. */
  efficiency: number;
  /** The task's own time inside passed runs ÷ available slot-time. */
  task_efficiency: number;
  available_slot_min: number;
  useful_slot_min: number;
  task_slot_min: number;
  /** Slot-time not spent on passed runs: failed runs by failure kind, and idle slots. */
  wasted_slot_min: Record<string, number>;
  /** Night-minute each spec landed at, in order (the landed-over-the-night curve). */
  landed_at_min: number[];
  /** Provider-side failures that ran before the flaky provider's breaker first opened. */
  breaker: { opened_at_min: number | null; failed_preflights_before_open: number | null };
  rate_limited_runs: number;
  kill: { at_min: number; executor: string; runs_held: number; restarted: boolean } | null;
  runs: NightRun[];
  wall_s: number;
}

const LANDED = new Set(["awaiting_review", "approved"]);

export async function runNight(opts: {
  policy: PolicyName;
  profile: NightProfile;
  log?: (line: string) => void;
}): Promise<NightResult> {
  const log = opts.log ?? (() => {});
  const profile = opts.profile;
  const policy = POLICIES[opts.policy];
  const durations = taskDurations(profile);
  const wallStart = Date.now();
  const stack = await benchStack(`night-${policy.name}-${profile.name}`, policy.vars);
  const origin = makeOrigin(stack.root, "bench");

  // The demo providers run on the night's clock, so a Retry-After is in night seconds.
  const anchor = Date.now();
  const nightNow = () => anchor + (Date.now() - anchor) * NIGHT_RATE;
  const providers: Record<string, { demo: DemoProvider; startedAt: number }> = {};
  for (const p of profile.providers) {
    const startedAt = nightNow();
    const demo = await startDemoProvider({ seed: profile.seed, now: nightNow });
    onCleanup(() => demo.close());
    providers[p.name] = { demo, startedAt };
  }

  const executors: StackExecutor[] = [];
  for (let i = 0; i < 3; i++) {
    executors.push(
      startStackExecutor(stack, origin.path, {
        id: `night-${i}`,
        providers: Object.fromEntries(Object.entries(providers).map(([n, p]) => [n, p.demo.url])),
        // Six executor slots for six provider slots: a dead executor's slots are missed.
        capacity: 2,
        heartbeatS: HEARTBEAT_REAL_S,
      }),
    );
  }
  for (const e of executors) await e.proc.waitForLine(/claim|polling|waiting|started|executor/i, 60_000);
  for (let t = 0; t < 100; t++) {
    const res = await stack.api<{ providers?: ProviderView[] } | ProviderView[]>("GET", "/v1/providers");
    const list = Array.isArray(res.body) ? res.body : (res.body.providers ?? []);
    if (profile.providers.every((p) => list.some((v) => v.name === p.name))) break;
    await sleep(200);
  }
  for (const p of profile.providers) await stack.api("PUT", `/v1/providers/${p.name}`, { slots: p.slots });
  // The seed had no review backlog hold; neither policy gets one here (same for both).
  await stack.api("PUT", "/v1/settings", { max_awaiting_review: 0 });

  // The whole queue is in before the night starts: frozen while dispatching.
  await stack.api("POST", "/v1/freeze");
  const ids: string[] = [];
  for (let i = 0; i < profile.specs; i++) {
    const ms = nightMinToRealMs(durations[i] as number);
    const behaviour = profile.loopSpecs.includes(i)
      ? "\nbench-behaviour=loop"
      : profile.deleteSpecs.includes(i)
        ? "\nbench-behaviour=delete-function"
        : "";
    ids.push(
      await stack.dispatch(
        `---\ntitle: night task ${i}\nrepo: bench\nattempts: 20\nstop: Stop after one commit.\n---\nDo night task ${i}.\n\nbench-duration-ms=${ms}${behaviour}\n`,
      ),
    );
  }
  const index = new Map(ids.map((id, i) => [id, i]));

  // From here the control plane's clock runs at the night's rate; `toMin` maps its timestamps.
  const t0 = Date.now();
  await setClockRate(stack, NIGHT_RATE);
  const toMin = (iso: string): number => realMsToNightMin((Date.parse(iso) - t0) / NIGHT_RATE);
  await stack.api("POST", "/v1/thaw");
  const nightMin = () => realMsToNightMin(Date.now() - t0);
  log(`night ${policy.name}/${profile.name}: ${profile.specs} specs, window ${profile.windowMin} night-min`);

  // The profile's timed faults, on the providers' night clocks.
  const timers: NodeJS.Timeout[] = [];
  const at = (min: number, fn: () => void) => timers.push(setTimeout(fn, Math.max(0, nightMinToRealMs(min))));
  for (const p of profile.providers) {
    const { demo, startedAt } = providers[p.name] as { demo: DemoProvider; startedAt: number };
    if (p.preflightFailRate !== undefined) {
      at(p.preflightFailFromMin ?? 0, () => demo.setFaults({ preflightFailRate: p.preflightFailRate }));
      at(p.preflightFailUntilMin ?? profile.windowMin, () => demo.setFaults(undefined));
    }
    if (p.rateLimitFromMin !== undefined && p.rateLimitUntilMin !== undefined) {
      const until = p.rateLimitUntilMin;
      at(p.rateLimitFromMin, () =>
        // rateLimitUntilMs counts night-ms from the provider's start.
        demo.setFaults({
          rateLimitUntilMs: anchorToNight(t0, anchor) + until * 60_000 - (startedAt - anchor),
        }),
      );
    }
  }
  onCleanup(() => timers.forEach(clearTimeout));

  // The cron, on the night's clock.
  const stopTicker = every(nightMinToRealMs(policy.monitorEveryMin), () => stack.cp.tick());
  onCleanup(stopTicker);

  // Breaker state on the flaky provider, sampled.
  let breakerOpenedMin: number | null = null;
  const stopSampler = every(200, async () => {
    if (breakerOpenedMin !== null) return;
    const res = await stack.api<{ providers?: ProviderView[] } | ProviderView[]>("GET", "/v1/providers");
    const list = Array.isArray(res.body) ? res.body : (res.body.providers ?? []);
    if (list.some((v) => v.name === "flaky" && v.breaker.state === "open")) breakerOpenedMin = nightMin();
  });
  onCleanup(stopSampler);

  let kill: NightResult["kill"] = null;
  if (profile.killAtMin !== null) {
    await sleep(Math.max(0, t0 + nightMinToRealMs(profile.killAtMin) - Date.now()));
    // The victim is an executor holding runs now, read from its own log.
    const holding = (e: (typeof executors)[number]): number => {
      const open = new Set<string>();
      for (const l of e.proc.lines) {
        const m = / run (\S+-\d+) (claimed|done):/.exec(` ${l}`);
        if (!m) continue;
        if (m[2] === "claimed") open.add(m[1] as string);
        else open.delete(m[1] as string);
      }
      return open.size;
    };
    const victim = executors.find((e) => holding(e) > 0) ?? (executors[0] as (typeof executors)[number]);
    const held = holding(victim);
    const killedAt = nightMin();
    await victim.proc.kill("SIGKILL");
    if (policy.restartKilled) victim.proc = startExecutor(victim.config, victim.workdir);
    kill = {
      at_min: round(killedAt, 1),
      executor: victim.id,
      runs_held: held,
      restarted: policy.restartKilled,
    };
    log(
      `night ${policy.name}/${profile.name}: SIGKILLed ${victim.id} at ${round(killedAt)} night-min holding ${held} runs${policy.restartKilled ? "; restarted" : "; left dead"}`,
    );
  }

  await sleep(Math.max(0, t0 + nightMinToRealMs(profile.windowMin) - Date.now()));
  const windowEnd = profile.windowMin;
  await stopSampler();
  await stopTicker();
  for (const e of executors) await e.proc.kill("SIGKILL");
  if (process.env.MTOR_BENCH_DEBUG)
    log((executors[2] as (typeof executors)[number]).proc.lines.slice(0, 80).join("\n"));
  const details: SpecDetail[] = [];
  for (const id of ids) details.push(await stack.spec(id));

  // Slot-time from the control plane's own records, clipped to the window.
  const runs: NightRun[] = [];
  let useful = 0;
  let task = 0;
  let busy = 0;
  const wasted: Record<string, number> = {};
  const landedAt: number[] = [];
  let rateLimited = 0;
  for (const s of details) {
    const i = index.get(s.id) as number;
    for (const r of s.runs) {
      const from = Math.max(0, toMin(r.claimed_at));
      const to = Math.min(windowEnd, r.finished_at ? toMin(r.finished_at) : windowEnd);
      const span = Math.max(0, to - from);
      busy += span;
      const passed = r.outcome === "passed" && r.finished_at !== null;
      if (r.failure?.kind === "rate_limited") rateLimited++;
      const outcome = passed
        ? "passed"
        : r.finished_at === null
          ? "unfinished"
          : (r.failure?.kind ?? r.outcome ?? "failed");
      runs.push({
        spec: i,
        provider: r.provider,
        executor: r.executor,
        from_min: round(from, 1),
        to_min: round(to, 1),
        outcome,
      });
      if (passed && toMin(r.finished_at as string) <= windowEnd) {
        useful += span;
        task += Math.min(span, durations[i] as number);
      } else {
        const cause = passed ? "passed after the window" : `run ${outcome}`;
        wasted[cause] = (wasted[cause] ?? 0) + span;
      }
    }
    const passedRun = s.runs.find((r) => r.outcome === "passed" && r.finished_at);
    if (passedRun && LANDED.has(s.status) && toMin(passedRun.finished_at as string) <= windowEnd)
      landedAt.push(round(toMin(passedRun.finished_at as string), 1));
  }
  const messages = new Map<string, number>();
  for (const s of details)
    for (const r of s.runs)
      if (r.failure) {
        const key = `${r.provider} ${r.failure.kind}: ${r.failure.message.slice(0, 200)}`;
        messages.set(key, (messages.get(key) ?? 0) + 1);
        if (process.env.MTOR_BENCH_DEBUG) log(`${r.failure.message}\n${r.log_tail ?? ""}`);
      }
  for (const [m, n] of messages) log(`night ${policy.name}/${profile.name}: ${n}× ${m}`);
  const slots = profile.providers.reduce((n, p) => n + p.slots, 0);
  const available = slots * windowEnd;
  wasted["idle slot"] = Math.max(0, available - busy);
  landedAt.sort((a, b) => a - b);

  const flakyFailsBefore =
    breakerOpenedMin === null
      ? null
      : runs.filter(
          (r) =>
            r.provider === "flaky" && r.outcome === "preflight" && r.to_min <= (breakerOpenedMin as number),
        ).length;
  const result: NightResult = {
    policy: policy.name,
    profile: profile.name,
    specs: profile.specs,
    window_min: windowEnd,
    landed: landedAt.length,
    landed_per_hour: round(landedAt.length / (windowEnd / 60)),
    efficiency: round(useful / available, 3),
    task_efficiency: round(task / available, 3),
    available_slot_min: round(available, 1),
    useful_slot_min: round(useful, 1),
    task_slot_min: round(task, 1),
    wasted_slot_min: Object.fromEntries(Object.entries(wasted).map(([k, v]) => [k, round(v, 1)])),
    landed_at_min: landedAt,
    breaker: {
      opened_at_min: breakerOpenedMin === null ? null : round(breakerOpenedMin, 1),
      failed_preflights_before_open: flakyFailsBefore,
    },
    rate_limited_runs: rateLimited,
    kill,
    runs,
    wall_s: round((Date.now() - wallStart) / 1000, 1),
  };
  log(
    `night ${policy.name}/${profile.name}: landed ${result.landed}, efficiency ${result.efficiency} (task-only ${result.task_efficiency}), ${result.wall_s} s`,
  );
  return result;
}

/** Night-ms from the providers' anchor to the night's start (t0, real ms). */
function anchorToNight(t0: number, anchor: number): number {
  return (t0 - anchor) * NIGHT_RATE;
}
