// `npm run dev` (`mtor dev`): the control plane alone in local workerd, configured from
// `.dev.vars`, with the same once-a-minute cron ticker as `mtor up`, so leases expire and failed
// specs requeue as they do when deployed. Executors are started by hand (docs/executor.md).
import { join } from "node:path";
import { REPO_ROOT, startControlPlane } from "../local/control-plane";

export interface DevOptions {
  port: number;
  /** The address to listen on; 127.0.0.1 unless the stack is meant to be reached from elsewhere. */
  host: string;
  /** Seconds between monitor passes. */
  tickS: number;
  /** Extra `--var NAME:VALUE` pairs on top of `.dev.vars`. */
  vars: Record<string, string>;
  /** Where workerd keeps its state; wrangler's own default. */
  persistDir?: string;
  out: (line: string) => void;
  signal: AbortSignal;
}

export async function runDev(o: DevOptions): Promise<number> {
  let controlPlane: Awaited<ReturnType<typeof startControlPlane>>;
  try {
    controlPlane = await startControlPlane({
      port: o.port,
      host: o.host,
      persistDir: o.persistDir ?? join(REPO_ROOT, ".wrangler", "state"),
      vars: o.vars,
      onOutput: (line) => o.out(line),
      startTimeoutMs: 120_000,
    });
  } catch (err) {
    o.out(`mtor dev: could not start the control plane: ${(err as Error).message}`);
    return 1;
  }
  o.out(`mtor dev: control plane on ${controlPlane.url} (tokens and keys from .dev.vars)`);
  o.out(`mtor dev: a monitor pass every ${o.tickS}s, as the deployed cron trigger runs one every minute`);
  const tick = () =>
    controlPlane
      .tick()
      .then(() => o.out(`mtor dev: monitor pass at ${new Date().toISOString().slice(11, 19)}`))
      .catch((err) => o.out(`mtor dev: cron tick failed: ${(err as Error).message}`));
  // One pass at start, so `GET /v1/status` shows a monitor from the first minute on.
  await tick();
  const ticker = setInterval(tick, o.tickS * 1000);
  await new Promise<void>((done) => {
    if (o.signal.aborted) done();
    o.signal.addEventListener("abort", () => done(), { once: true });
  });
  clearInterval(ticker);
  await controlPlane.stop();
  o.out("mtor dev: stopped.");
  return 0;
}
