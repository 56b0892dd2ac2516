import type { ProviderView, SpecDetail } from "@mtor/schema";
import { type DemoProvider, startDemoProvider } from "../executor/src/demo/provider";
import {
  benchStack,
  every,
  makeOrigin,
  OPERATOR_TOKEN,
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
  PREFLIGHT_TIMEOUT_REAL_S,
  realMsToNightMin,
  taskDurations,
} from "./profiles";
import { accountSlots, idleReason, isDown, type NightRun, outages } from "./slot-time";

export type { NightRun };

/** Each executor runs two at a time: six executor slots for six provider slots. */
const EXECUTOR_CAPACITY = 2;

/** How long the runs in flight at the window's end get to finish, in night-minutes. */
export const drainMin = (p: NightProfile): number => Math.round(p.windowMin / 4);

export interface NightResult {
  policy: PolicyName;
  profile: string;
  specs: number;
  window_min: number;
  /** Specs whose passing run ended inside the window. */
  landed: number;
  landed_per_hour: number;
  /** useful ÷ available slot-time (bench/slot-time.ts): passed runs' slot-time inside the window. */
  efficiency: number;
  /** The task's own time inside passed runs ÷ available slot-time. */
  task_efficiency: number;
  /** useful ÷ every provider slot over the window, outages included. */
  efficiency_of_all_slot_time: number;
  available_slot_min: number;
  /** Slot-time of providers inside their outages (not available to anyone). */
  provider_down_slot_min: number;
  useful_slot_min: number;
  task_slot_min: number;
  /** Available slot-time not spent on passed runs: failed runs by failure kind, idle slots by why. */
  wasted_slot_min: Record<string, number>;
  /** Night-minute each spec landed at, in order (the landed-over-the-night curve). */
  landed_at_min: number[];
  /** Provider-side failures that ran before the flaky provider's breaker first opened. */
  breaker: { opened_at_min: number | null; failed_preflights_before_open: number | null };
  rate_limited_runs: number;
  kill: { at_min: number; executor: string; runs_held: number; restarted: boolean } | null;
  runs: NightRun[];
  /** The report's own timeline of the window (image/svg+xml), as the dashboard shows it. */
  timeline_svg: string;
  wall_s: number;
}

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
        capacity: EXECUTOR_CAPACITY,
        heartbeatS: HEARTBEAT_REAL_S,
        preflightTimeoutS: PREFLIGHT_TIMEOUT_REAL_S,
        preflightRetries: policy.executor.preflightRetries,
        preflightRetryS: policy.executor.preflightRetryS / NIGHT_RATE,
        stopRunaways: policy.executor.stopRunaways,
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
      at(p.preflightFailFromMin ?? 0, () =>
        demo.setFaults({ preflightFailRate: p.preflightFailRate, preflightFailMode: p.preflightFailMode }),
      );
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

  // The providers, sampled every 200 ms (a night-minute): when the flaky provider's breaker first
  // opened, and why each idle slot was idle (the split of the idle slot-time).
  let breakerOpenedMin: number | null = null;
  const outage = outages(profile);
  const down = (provider: string, m: number) => isDown(outage, provider, m);
  const idleSamples: Record<string, number> = {};
  let deadExecutors = 0;
  const stopSampler = every(200, async () => {
    const res = await stack.api<{ providers?: ProviderView[] } | ProviderView[]>("GET", "/v1/providers");
    const list = Array.isArray(res.body) ? res.body : (res.body.providers ?? []);
    const m = nightMin();
    if (breakerOpenedMin === null && list.some((v) => v.name === "flaky" && v.breaker.state === "open"))
      breakerOpenedMin = m;
    const executorSlotsFree =
      (executors.length - deadExecutors) * EXECUTOR_CAPACITY - list.reduce((n, v) => n + v.in_use, 0);
    for (const v of list) {
      const idle = Math.max(0, v.slots - v.in_use);
      if (idle === 0 || m >= profile.windowMin || down(v.name, m)) continue;
      const why = idleReason(v, executorSlotsFree);
      idleSamples[why] = (idleSamples[why] ?? 0) + idle;
    }
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
    else deadExecutors++;
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
  // The window's end is not the end of the runs in flight: no new claims, and the runs going on
  // get up to drainMin() to finish, so that the window's share of a run that passes afterwards
  // counts as the useful work it was (the spec itself lands after the window and is not counted).
  await stack.api("POST", "/v1/freeze");
  const drainUntil = t0 + nightMinToRealMs(windowEnd + drainMin(profile));
  while (Date.now() < drainUntil) {
    const res = await stack.api<{ providers?: ProviderView[] } | ProviderView[]>("GET", "/v1/providers");
    const list = Array.isArray(res.body) ? res.body : (res.body.providers ?? []);
    if (list.reduce((n, v) => n + v.in_use, 0) === 0) break;
    await sleep(200);
  }
  await stopTicker();
  for (const e of executors) await e.proc.kill("SIGKILL");
  // The night's timeline as the report draws it (GET /v1/report?format=svg), over the window on
  // the control plane's own clock: the picture docs/performance.md shows.
  const svgRes = await fetch(
    `${stack.cp.url}/v1/report?format=svg&since=${new Date(t0).toISOString()}&until=${new Date(t0 + windowEnd * 60_000).toISOString()}`,
    { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } },
  );
  const timelineSvg = await svgRes.text();
  if (!svgRes.ok || !timelineSvg.startsWith("<svg"))
    throw new Error(`GET /v1/report?format=svg answered ${svgRes.status}: ${timelineSvg.slice(0, 200)}`);
  if (process.env.MTOR_BENCH_DEBUG)
    log((executors[2] as (typeof executors)[number]).proc.lines.slice(0, 80).join("\n"));
  const details: SpecDetail[] = [];
  for (const id of ids) details.push(await stack.spec(id));

  const account = accountSlots({ profile, durations, details, index, toMin, idleSamples });
  const { runs, landedAt, rateLimited } = account;
  const messages = new Map<string, number>();
  for (const s of details)
    for (const r of s.runs)
      if (r.failure) {
        const key = `${r.provider} ${r.failure.kind}: ${r.failure.message.slice(0, 200)}`;
        messages.set(key, (messages.get(key) ?? 0) + 1);
        if (process.env.MTOR_BENCH_DEBUG) log(`${r.failure.message}\n${r.log_tail ?? ""}`);
      }
  for (const [m, n] of messages) log(`night ${policy.name}/${profile.name}: ${n}× ${m}`);
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
    efficiency: round(account.useful / account.available, 3),
    task_efficiency: round(account.task / account.available, 3),
    efficiency_of_all_slot_time: round(account.useful / account.all, 3),
    available_slot_min: round(account.available, 1),
    provider_down_slot_min: round(account.all - account.available, 1),
    useful_slot_min: round(account.useful, 1),
    task_slot_min: round(account.task, 1),
    wasted_slot_min: Object.fromEntries(Object.entries(account.wasted).map(([k, v]) => [k, round(v, 1)])),
    landed_at_min: landedAt,
    breaker: {
      opened_at_min: breakerOpenedMin === null ? null : round(breakerOpenedMin, 1),
      failed_preflights_before_open: flakyFailsBefore,
    },
    rate_limited_runs: rateLimited,
    kill,
    runs,
    timeline_svg: timelineSvg,
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
