// The Fleet's timings and policy switches come from the Worker's vars: wrangler.toml holds
// today's defaults, a var overrides one, a malformed one is refused by name, and the seed's
// policy (fixed slots, no breaker, fixed backoff) is reachable by configuration alone.
import { env, runInDurableObject } from "cloudflare:test";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { describe, expect, it } from "vitest";
import { tables } from "../src/core/db";
import { DEFAULT_TIMINGS, readTimings } from "../src/core/timings";
import { backoffMs } from "../src/fleet/backoff";
import { ensureProviders, getProvider, recordRunEnd } from "../src/fleet/providers";
import { stub } from "./webhooks-helpers";

describe("Fleet timings", () => {
  it("wrangler.toml's vars are today's defaults", () => {
    expect(env.MTOR_LEASE_TTL_S).toBe("90");
    expect(readTimings(env)).toEqual(DEFAULT_TIMINGS);
  });

  it("a var overrides its timing, in seconds, and leaves the rest at their defaults", () => {
    const t = readTimings({ MTOR_LEASE_TTL_S: "0.5", MTOR_BACKOFF_BASE_S: "30", MTOR_BACKOFF_CAP_S: "30" });
    expect(t.leaseTtlS).toBe(0.5);
    expect(t.backoffBaseMs).toBe(30_000);
    expect(t.backoffCapMs).toBe(30_000);
    expect(t.pickupS).toBe(DEFAULT_TIMINGS.pickupS);
    expect(t.breakerCooldownBaseMs).toBe(DEFAULT_TIMINGS.breakerCooldownBaseMs);
    // A fixed backoff: every failure waits the same 30 s (±20 % jitter).
    expect(backoffMs(1, 0.5, t)).toBe(30_000);
    expect(backoffMs(6, 0.5, t)).toBe(30_000);
  });

  it("a malformed var is refused, naming it", () => {
    expect(() => readTimings({ MTOR_LEASE_TTL_S: "ninety" })).toThrow(/MTOR_LEASE_TTL_S/);
    expect(() => readTimings({ MTOR_PICKUP_S: "0" })).toThrow(/MTOR_PICKUP_S/);
    expect(() => readTimings({ MTOR_BREAKER: "no" })).toThrow(/MTOR_BREAKER/);
    expect(() => readTimings({ MTOR_BACKOFF_BASE_S: "120", MTOR_BACKOFF_CAP_S: "60" })).toThrow(
      /MTOR_BACKOFF_CAP_S/,
    );
  });

  it("with the breaker and slot feedback off, failing preflights neither trip nor halve a provider", async () => {
    const seed = readTimings({ MTOR_BREAKER: "off", MTOR_SLOT_FEEDBACK: "off" });
    const after = await runInDurableObject(stub(), async (_i, state) => {
      const db = drizzle(state.storage, { schema: tables });
      const now = Date.UTC(2026, 0, 10, 23, 0, 0);
      ensureProviders(db, ["seed-p", "today-p"], now);
      for (let i = 0; i < 6; i++) {
        const end = { outcome: "failed" as const, failureKind: "preflight" as const, trial: false };
        recordRunEnd(db, now + i, "seed-p", seed, end);
        recordRunEnd(db, now + i, "today-p", DEFAULT_TIMINGS, end);
      }
      return { seed: getProvider(db, "seed-p"), today: getProvider(db, "today-p") };
    });
    expect(after.seed?.breakerState).toBe("closed");
    expect(after.seed?.effectiveSlots).toBe(after.seed?.slots);
    expect(after.seed?.consecutiveFailures).toBe(6);
    // The same failures under today's policy open the breaker and lower the slots.
    expect(after.today?.breakerState).toBe("open");
    expect(after.today?.effectiveSlots).toBeLessThan(after.today?.slots ?? 0);
  });

  it("the breaker's cooldown is the configured base", async () => {
    const t = readTimings({ MTOR_BREAKER_COOLDOWN_BASE_S: "7", MTOR_BREAKER_COOLDOWN_CAP_S: "20" });
    const p = await runInDurableObject(stub(), async (_i, state) => {
      const db = drizzle(state.storage, { schema: tables });
      const now = Date.UTC(2026, 0, 10, 23, 0, 0);
      ensureProviders(db, ["cool-p"], now);
      for (let i = 0; i < 3; i++)
        recordRunEnd(db, now, "cool-p", t, { outcome: "failed", failureKind: "preflight", trial: false });
      return getProvider(db, "cool-p");
    });
    expect(p?.breakerState).toBe("open");
    expect(p?.cooldownMs).toBe(7000);
  });
});
