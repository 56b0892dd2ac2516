// Every webhook event the Fleet emits parses as its schema (schema/src/events.ts): the flows
// below raise each event type for real, then every outbox row is read back and parsed.
import { runInDurableObject } from "cloudflare:test";
import { WebhookEventPayload } from "@mtor/schema/events";
import type { GateFlag } from "@mtor/schema/gates";
import { WEBHOOK_EVENTS } from "@mtor/schema/wire";
import { beforeAll, describe, expect, it } from "vitest";
import { api, claimBody, dispatchSpec, executorClient, startClock, tick } from "./helpers";
import { claimOne, monitorPass, sendVerdict, stub } from "./webhooks-helpers";

const minutes = (n: number) => n * 60_000;

async function outboxRows(): Promise<{ type: string; payload: unknown }[]> {
  return runInDurableObject(stub(), (_instance, state) =>
    state.storage.sql
      .exec("SELECT type, payload FROM outbox ORDER BY id")
      .toArray()
      .map((r) => ({ type: r.type as string, payload: JSON.parse(r.payload as string) as unknown })),
  );
}

const touched: GateFlag = {
  gate: "protected_branch_touched",
  action: "reject",
  detail: "moved ref refs/heads/main from 1234567 to 89abcde",
  facts: { kind: "ref_changed", ref: "refs/heads/main", change: "moved" },
};

describe("webhook event payloads", () => {
  beforeAll(async () => {
    // Two hours before the daily report's hour (07:00 UTC by default).
    await startClock(Date.UTC(2026, 2, 3, 5, 0, 0));
  });

  it("every event the flows raise parses as the schema of its type, and every type is raised", async () => {
    // spec.verdict (passed, with a reviewer's grade and a flag's facts)
    await dispatchSpec("passes", { provider: "ev-a" });
    const a = await claimOne("ex-ev", "ev-a");
    await sendVerdict(a, {
      outcome: "passed",
      branch: `mtor/${a.spec_id}-1`,
      head_sha: "a".repeat(40),
      diffstat: { files: 1, insertions: 3, deletions: 0 },
      flags: [
        {
          gate: "out_of_scope",
          action: "review",
          detail: "changed a file outside paths [src/]: README.md",
          facts: { kind: "out_of_scope", paths: ["src/"], files: ["README.md"] },
        },
      ],
    });

    // run.security and a final spec.verdict (rejected, that gate does not retry)
    await dispatchSpec("moves main", { provider: "ev-b" });
    const b = await claimOne("ex-ev", "ev-b");
    await sendVerdict(b, { outcome: "rejected", flags: [touched] });

    // spec.failed (attempts left), then spec.dead (none left)
    await dispatchSpec("fails", { provider: "ev-c", attempts: "1" });
    const c = await claimOne("ex-ev", "ev-c");
    await sendVerdict(c, { outcome: "failed", failure: { kind: "harness", message: "exit 1" } });
    await dispatchSpec("fails then retries", { provider: "ev-d", attempts: "2" });
    const d = await claimOne("ex-ev", "ev-d");
    await sendVerdict(d, { outcome: "failed", failure: { kind: "git", message: "push refused" } });

    // provider.tripped: three provider-side failures in a row
    await api("/v1/providers/ev-e", { method: "PUT", body: { slots: 3 } });
    for (let i = 0; i < 3; i++) {
      await dispatchSpec(`trips ${i}`, { provider: "ev-e" });
      const e = await claimOne(`ex-ev-e${i}`, "ev-e");
      await sendVerdict(e, { outcome: "failed", failure: { kind: "provider", message: "529 overloaded" } });
    }

    // budget.reached: a provider's budget spent, then a claim for it
    await api("/v1/providers/ev-f", { method: "PUT", body: { budget_usd: 1 } });
    await dispatchSpec("spends", { provider: "ev-f" });
    const f = await claimOne("ex-ev-f", "ev-f");
    await sendVerdict(f, {
      outcome: "passed",
      usage: { input_tokens: 1, output_tokens: 1, cost_usd: 1.2, turns: 1 },
    });
    await dispatchSpec("over budget", { provider: "ev-f" });
    const held = await executorClient().claim(claimBody("ex-ev-f", { providers: ["ev-f"], repos: ["mtor"] }));
    expect(held.ok && held.data.reason).toBe("budget");

    // spec.stuck: queued for a repo no executor serves, past the 10 minutes
    await dispatchSpec("nobody serves it", { repo: "ev-unserved", provider: "ev-a" });
    await tick(minutes(11));
    // monitor.digest: the first pass has events to tell
    await monitorPass();
    // report.daily: a pass within the report hour
    await tick(Date.UTC(2026, 2, 3, 7, 1, 0) - (await stub().now()));
    await monitorPass();

    const rows = await outboxRows();
    for (const row of rows) {
      const parsed = WebhookEventPayload.safeParse(row);
      expect(parsed.success, `${row.type}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
    expect(new Set(rows.map((r) => r.type))).toEqual(new Set(WEBHOOK_EVENTS));
  });

  it("refuses a payload that does not match its type", () => {
    const verdict = {
      type: "spec.verdict",
      payload: { spec_id: "k3f9x2ab", title: "t", repo: "mtor", run_id: "r", attempt: 1 },
    };
    expect(WebhookEventPayload.safeParse(verdict).success).toBe(false);
    const unknownType = { type: "spec.exploded", payload: {} };
    expect(WebhookEventPayload.safeParse(unknownType).success).toBe(false);
  });
});
