// preflight_retries: by default a failed preflight fails the run at once; with retries set (the
// seed's executor, replayed by the benchmark) the same slot tries again, and a stop ends it.
import { afterAll, describe, expect, it } from "vitest";
import { createActivities } from "../../src/engine/activities";
import type { Harness } from "../../src/harness/types";
import { makeBox, makeOrigin, makeRun, shHarness } from "../temporal/helpers";

const origin = makeOrigin();
afterAll(() => origin.cleanup());

/** The scripted `commits` harness whose preflight is refused by the provider `fails` times first. */
function flakyPreflight(fails: number, onCall?: () => void): { harness: Harness; calls: () => number } {
  const real = shHarness("commits");
  let calls = 0;
  return {
    calls: () => calls,
    harness: {
      ...real,
      async preflight(input) {
        calls++;
        onCall?.();
        if (calls <= fails)
          return {
            ok: false,
            failure: { kind: "preflight", message: "preflight failed: 529 overloaded" },
            durationMs: 1,
          };
        return real.preflight(input);
      },
    },
  };
}

function activities(
  name: string,
  fails: number,
  retries?: { preflightRetries: number; preflightRetryMs: number },
  onCall?: () => void,
) {
  const box = makeBox(origin.root, origin.origin, name);
  const flaky = flakyPreflight(fails, onCall);
  const acts = createActivities({
    ...box.deps,
    config: { ...box.deps.config, ...retries },
    harnessFor: () => flaky.harness,
  });
  return { acts, calls: flaky.calls };
}

describe("preflight_retries", () => {
  it("fails the run at the first failed preflight by default, freeing the slot", async () => {
    const { acts, calls } = activities("default", 1);
    const run = makeRun("commits");
    const r = await acts.preflight(run);
    expect(r.ok).toBe(false);
    expect(calls()).toBe(1);
  });

  it("tries again in the same slot when configured, and goes on once the provider answers", async () => {
    const { acts, calls } = activities("retries", 2, { preflightRetries: 3, preflightRetryMs: 10 });
    const run = makeRun("commits");
    const prepared = await acts.prepareWorktree(run);
    expect(await acts.preflight(run)).toEqual({ ok: true, originBefore: prepared.originBefore });
    expect(calls()).toBe(3);
  });

  it("gives up after the configured retries, and at once when the run is stopped", async () => {
    const spent = activities("spent", 10, { preflightRetries: 2, preflightRetryMs: 10 });
    const run = makeRun("commits");
    const r = await spent.acts.preflight(run);
    expect(r.ok).toBe(false);
    expect(spent.calls()).toBe(3);

    // The run is stopped once the first probe has failed (the origin is listed before it, so a
    // fixed delay could stop it before any probe).
    const stop = new AbortController();
    const stopped = activities("stopped", 10, { preflightRetries: 100, preflightRetryMs: 60_000 }, () =>
      setImmediate(() => stop.abort()),
    );
    const run2 = makeRun("commits");
    const started = Date.now();
    const pending = stopped.acts.preflight(run2, { signal: stop.signal });
    // A stopped run ends as stopped (the engine reads the abort), never as a passed preflight.
    const r2 = await pending.then(
      (r) => (r.ok ? "passed" : r.failure.kind),
      (e: Error) => e.name,
    );
    expect(r2).toBe("AbortError");
    // The stop cut the minute-long wait: one try, no second.
    expect(stopped.calls()).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
