// The Temporal engine's cost per run, side by side with the local engine's: the same specs (the
// bench agent, no work time) on two executor boxes in one run, one with engine = "local", one
// with engine = "temporal" against a real Temporal dev server. A run's time is the control
// plane's own: from the claim to the accepted verdict. The specs alternate between the boxes so
// both see the same load.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDemoProvider } from "../executor/src/demo/provider";
import { startDevServer } from "../executor/test/temporal/dev-server";
import { benchStack, makeOrigin, median, onCleanup, round, startExecutor, writeBenchConfig } from "./lib";
import { runQueuePeer } from "./queue-peer";

export interface EnginesResult {
  /** Specs per engine. */
  specs: number;
  local_run_ms: number;
  temporal_run_ms: number;
  /** Median Temporal run minus median local run. */
  temporal_overhead_ms: number;
  /** Median Temporal run ÷ median local run. */
  ratio: number;
  /** The same local-engine runs from the spec's dispatch to the verdict (control plane's clock). */
  local_enqueue_to_verdict_ms: number;
  /**
   * A Temporal-less peer queue (bench/queue-peer.ts): BullMQ on local Redis running the same
   * executor steps, enqueue → end of job, and its ratio to mtor's dispatch → verdict.
   */
  bullmq_enqueue_to_end_ms: number;
  bullmq_to_mtor: number;
}

export async function runEngines(opts: {
  quick: boolean;
  log?: (line: string) => void;
}): Promise<EnginesResult> {
  const log = opts.log ?? (() => {});
  const specs = opts.quick ? 2 : 8;
  const [stack, server] = await Promise.all([benchStack("engines"), startDevServer()]);
  onCleanup(() => server.close());
  const demo = await startDemoProvider({});
  onCleanup(() => demo.close());

  const box = (engine: "local" | "temporal") => {
    const origin = makeOrigin(stack.root, `engines-${engine}`);
    const workdir = join(stack.root, `executor-${engine}`);
    const config = writeBenchConfig(join(stack.root, "configs"), {
      id: `engines-${engine}`,
      controlPlane: stack.cp.url,
      workdir,
      repos: { [`engines-${engine}`]: origin.path },
      providers: { [`bench-${engine}`]: demo.url },
      capacity: 1,
      heartbeatS: 5,
      claimWaitS: 20,
    });
    // Both boxes alike apart from the engine. The bench agent lives in this checkout, which a
    // bwrap sandbox does not show the harness: both run unsandboxed, so the sandbox's cost is
    // not in either figure (bench/overhead.ts measures it).
    const toml = readFileSync(config, "utf8");
    const temporal = `\n[temporal]\naddress = ${JSON.stringify(server.address)}\ntask_queue_prefix = "bench"\n`;
    writeFileSync(
      config,
      `engine = ${JSON.stringify(engine)}\nsandbox = "none"\n${toml}${engine === "temporal" ? temporal : ""}`,
    );
    return startExecutor(config, workdir);
  };
  const executors = { local: box("local"), temporal: box("temporal") };
  await Promise.all(Object.values(executors).map((e) => e.waitForLine(/executor engines-\w+ →/, 120_000)));

  const times: Record<"local" | "temporal", number[]> = { local: [], temporal: [] };
  const enqueued: number[] = [];
  for (let i = 0; i < specs; i++) {
    for (const engine of ["local", "temporal"] as const) {
      const id = await stack.dispatch(
        `---\ntitle: engine run ${i}\nrepo: engines-${engine}\nprovider: bench-${engine}\nstop: Stop after one commit.\n---\nDo engine task ${i}.\n\nbench-duration-ms=0\n`,
      );
      const done = await stack.waitForStatus(id, ["awaiting_review", "rejected", "failed", "dead"], 180_000);
      const run = done.runs.at(-1);
      if (done.status !== "awaiting_review" || !run?.finished_at)
        throw new Error(
          `engines: ${engine} spec ${id} ended ${done.status}: ${JSON.stringify(run?.failure)}`,
        );
      const ms = Date.parse(run.finished_at) - Date.parse(run.claimed_at);
      times[engine].push(ms);
      if (engine === "local") enqueued.push(Date.parse(run.finished_at) - Date.parse(done.created_at));
      log(`engines: ${engine} run ${i} claim → verdict ${ms} ms`);
    }
  }
  await Promise.all(Object.values(executors).map((e) => e.kill("SIGKILL")));

  // The peer queue: the same specs and steps on the same box, with BullMQ in mtor's place.
  const peerOrigin = makeOrigin(stack.root, "engines-peer");
  const peerWorkdir = join(stack.root, "executor-peer");
  const peerConfig = writeBenchConfig(join(stack.root, "configs"), {
    id: "engines-peer",
    controlPlane: stack.cp.url,
    workdir: peerWorkdir,
    repos: { "engines-peer": peerOrigin.path },
    providers: { "bench-peer": demo.url },
    capacity: 1,
    heartbeatS: 5,
  });
  writeFileSync(peerConfig, `sandbox = "none"\n${readFileSync(peerConfig, "utf8")}`);
  const peer = await runQueuePeer({
    configFile: peerConfig,
    workdir: peerWorkdir,
    repo: "engines-peer",
    provider: "bench-peer",
    count: specs,
    specText: (i) =>
      `---\ntitle: engine run ${i}\nrepo: engines-peer\nprovider: bench-peer\nstop: Stop after one commit.\n---\nDo engine task ${i}.\n\nbench-duration-ms=0\n`,
    log,
  });
  if (peer.outcomes.some((o) => o !== "passed"))
    throw new Error(`engines: the BullMQ peer's runs ended ${peer.outcomes.join(", ")}`);

  const local = median(times.local);
  const temporal = median(times.temporal);
  const mtorEnqueued = median(enqueued);
  return {
    specs,
    local_run_ms: round(local, 0),
    temporal_run_ms: round(temporal, 0),
    temporal_overhead_ms: round(temporal - local, 0),
    ratio: round(temporal / local),
    local_enqueue_to_verdict_ms: round(mtorEnqueued, 0),
    bullmq_enqueue_to_end_ms: round(peer.run_ms, 0),
    bullmq_to_mtor: round(peer.run_ms / mtorEnqueued),
  };
}
