import type { SpecDetail } from "@mtor/schema";
import { startDemoProvider } from "../executor/src/demo/provider";
import {
  benchStack,
  makeOrigin,
  median,
  onCleanup,
  round,
  type StackExecutor,
  sleep,
  startExecutor,
  startStackExecutor,
} from "./lib";

/** Short enough to repeat, long enough for a heartbeat every 2 s on a loaded box. */
const LEASE_TTL_S = 10;
const HEARTBEAT_S = 2;

export interface RequeueResult {
  kills: number;
  lease_ttl_s: number;
  /** Kill → the lost run's finished_at, seconds per kill. */
  lease_ended_s: number[];
  /** Kill → the next run's claimed_at on the other executor, seconds per kill. */
  requeue_s: number[];
  requeue_s_min: number;
  requeue_s_median: number;
  requeue_s_max: number;
  /** The target's bound: TTL + 5 s. */
  bound_s: number;
}

async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`requeue bench: timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function runRequeue(opts: {
  quick: boolean;
  log?: (line: string) => void;
}): Promise<RequeueResult> {
  const log = opts.log ?? (() => {});
  const kills = opts.quick ? 1 : 5;
  const stack = await benchStack("requeue", { MTOR_LEASE_TTL_S: String(LEASE_TTL_S) });
  const origin = makeOrigin(stack.root, "bench");
  const demo = await startDemoProvider({ seed: 1 });
  onCleanup(() => demo.close());
  const executors: StackExecutor[] = [];
  for (const id of ["requeue-a", "requeue-b"]) {
    const e = startStackExecutor(stack, origin.path, {
      id,
      providers: { demo: demo.url },
      capacity: 1,
      heartbeatS: HEARTBEAT_S,
    });
    await e.proc.waitForLine(/claim|polling|waiting|started|executor/i, 60_000);
    executors.push(e);
  }
  await stack.api("PUT", "/v1/settings", { max_awaiting_review: 0 });

  const leaseEnded: number[] = [];
  const requeue: number[] = [];
  for (let k = 0; k < kills; k++) {
    const id = await stack.dispatch(
      `---\ntitle: requeue ${k}\nrepo: bench\nattempts: 5\n---\nWork for a long time.\n\nbench-duration-ms=600000\n`,
    );
    const first = await until("the first run to start", async () => {
      const s = await stack.spec(id);
      return s.runs.find((r) => r.status === "running") ?? null;
    });
    const victim = executors.find((e) => e.id === first.executor);
    if (!victim)
      throw new Error(`requeue bench: run ${first.id} is on an unknown executor ${first.executor}`);
    const killedAt = Date.now();
    await victim.proc.kill("SIGKILL");
    const s: SpecDetail = await until("another executor to claim the spec", async () => {
      const d = await stack.spec(id);
      return d.runs.some((r) => r.id !== first.id) ? d : null;
    });
    const lost = s.runs.find((r) => r.id === first.id);
    const next = s.runs.find((r) => r.id !== first.id);
    if (!lost?.finished_at || !next)
      throw new Error(`requeue bench: spec ${id} has no ended run and next run`);
    leaseEnded.push((Date.parse(lost.finished_at) - killedAt) / 1000);
    requeue.push((Date.parse(next.claimed_at) - killedAt) / 1000);
    log(
      `requeue: kill ${k + 1}/${kills}: lease ended after ${round(leaseEnded.at(-1) as number)} s, claimed again after ${round(requeue.at(-1) as number)} s (${lost.failure?.kind ?? "?"})`,
    );
    // Free the survivor and bring the victim back for the next round.
    await stack.api("POST", `/v1/specs/${id}/kill`);
    victim.proc = startExecutor(victim.config, victim.workdir);
    await victim.proc.waitForLine(/claim|polling|waiting|started|executor/i, 60_000);
  }
  const sorted = [...requeue].sort((a, b) => a - b);
  return {
    kills,
    lease_ttl_s: LEASE_TTL_S,
    lease_ended_s: leaseEnded.map((v) => round(v)),
    requeue_s: requeue.map((v) => round(v)),
    requeue_s_min: round(sorted[0] as number),
    requeue_s_median: round(median(requeue)),
    requeue_s_max: round(sorted.at(-1) as number),
    bound_s: LEASE_TTL_S + 5,
  };
}
