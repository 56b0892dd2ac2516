// Webhook delivery: Standard Webhooks signing, the retry schedule, Retry-After, 410, redelivery,
// and the outbox written in the same transaction as the change it announces.
import { runInDurableObject } from "cloudflare:test";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tables } from "../src/core/db";
import { emit } from "../src/core/outbox";
import type { Fleet } from "../src/fleet/fleet";
import { RETRY_SCHEDULE_MS, send } from "../src/webhooks/deliver";
import { type OutboundEvent, render } from "../src/webhooks/formats";
import { checkWebhookUrl } from "../src/webhooks/guard";
import { api, dispatchSpec, executorClient, startClock, tick } from "./helpers";
import {
  claimOne,
  createWebhook,
  deleteAllWebhooks,
  deliveriesOf,
  receiver,
  runAlarm,
  sendVerdict,
  specStatus,
  stub,
} from "./webhooks-helpers";

let restore: (() => void) | undefined;
beforeEach(async () => {
  await startClock(Date.now());
});
afterEach(async () => {
  restore?.();
  restore = undefined;
  await deleteAllWebhooks();
  // Drain whatever the test left in the outbox so the next test starts quiet.
  const r = receiver(() => new Response("ok"));
  await runAlarm();
  r.restore();
});

/** Dispatches a spec and brings it to a passed verdict: one spec.verdict event in the outbox. */
async function passedVerdict(provider: string) {
  const id = await dispatchSpec(`verdict for ${provider} ${crypto.randomUUID()}`, { provider });
  const run = await claimOne(`ex-${provider}`, provider);
  await sendVerdict(run, {
    outcome: "passed",
    branch: `mtor/${id}-1`,
    diffstat: { files: 1, insertions: 5, deletions: 1 },
  });
  return id;
}

function verifyAt(secret: string, r: { headers: Record<string, string>; body: string }) {
  // standardwebhooks checks the timestamp against Date.now(); the Fleet's clock is pinned.
  const spy = vi.spyOn(Date, "now").mockReturnValue(Number(r.headers["webhook-timestamp"]) * 1000);
  try {
    return new Webhook(secret).verify(r.body, r.headers);
  } finally {
    spy.mockRestore();
  }
}

describe("webhook delivery", () => {
  it("retries a receiver that answers 500 three times, delivers once on 200, same webhook-id, verifiable signature", async () => {
    const wh = await createWebhook({ url: "https://hooks.example.com/mtor-a", events: ["spec.verdict"] });
    const r = receiver((_req, n) => new Response(n <= 3 ? "busy" : "ok", { status: n <= 3 ? 500 : 200 }));
    restore = r.restore;
    const specId = await passedVerdict("prov-a");

    expect(await runAlarm()).toBe(true);
    expect(r.received).toHaveLength(1);
    for (const delay of RETRY_SCHEDULE_MS.slice(0, 3)) {
      await tick(delay - 1);
      await runAlarm();
      expect(r.received.length).toBeLessThan(5);
      await tick(1);
      await runAlarm();
    }
    expect(r.received).toHaveLength(4);
    const ids = new Set(r.received.map((q) => q.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    for (const q of r.received) {
      expect(q.url).toBe("https://hooks.example.com/mtor-a");
      const event = verifyAt(wh.secret, q) as { type: string; data: { spec_id: string; status: string } };
      expect(event.type).toBe("spec.verdict");
      expect(event.data.spec_id).toBe(specId);
      expect(event.data.status).toBe("awaiting_review");
    }
    // A tampered body does not verify.
    expect(() =>
      verifyAt(wh.secret, {
        ...r.received[3],
        body: r.received[3].body.replace("spec.verdict", "spec.dead"),
      }),
    ).toThrow();

    const [d] = await deliveriesOf(wh.id);
    expect(d).toMatchObject({ status: "delivered", attempts: 4, last_status: 200, id: [...ids][0] });
    expect(d.log.map((a) => a.status)).toEqual([500, 500, 500, 200]);

    // Delivered means done: nothing more is sent, however long we wait.
    await tick(24 * 3600_000);
    await runAlarm();
    expect(r.received).toHaveLength(4);
  });

  it("disables the endpoint on 410 Gone and sends it nothing more", async () => {
    const wh = await createWebhook({ url: "https://hooks.example.com/gone", events: ["spec.verdict"] });
    const r = receiver(() => new Response("gone", { status: 410 }));
    restore = r.restore;
    await passedVerdict("prov-gone");
    await runAlarm();
    expect(r.received).toHaveLength(1);

    const list = (await (await api("/v1/webhooks")).json()) as {
      webhooks: { id: string; enabled: boolean; disabled_reason: string }[];
    };
    const ep = list.webhooks.find((w) => w.id === wh.id)!;
    expect(ep.enabled).toBe(false);
    expect(ep.disabled_reason).toMatch(/410/);
    expect((await deliveriesOf(wh.id))[0]).toMatchObject({ status: "failed", attempts: 1, last_status: 410 });

    await passedVerdict("prov-gone2");
    await tick(RETRY_SCHEDULE_MS[0]);
    await runAlarm();
    expect(r.received).toHaveLength(1);
    expect(await deliveriesOf(wh.id)).toHaveLength(1);
  });

  it("honours Retry-After over the schedule", async () => {
    const wh = await createWebhook({ url: "https://hooks.example.com/slow", events: ["spec.verdict"] });
    const r = receiver((_q, n) =>
      n === 1
        ? new Response("later", { status: 429, headers: { "retry-after": "120" } })
        : new Response("ok"),
    );
    restore = r.restore;
    await passedVerdict("prov-slow");
    const t0 = await tick(0);
    await runAlarm();
    const [d] = await deliveriesOf(wh.id);
    expect(d.status).toBe("pending");
    expect(Date.parse(d.next_attempt_at!)).toBe(t0 + 120_000);

    await tick(RETRY_SCHEDULE_MS[0]); // the schedule alone would retry now
    await runAlarm();
    expect(r.received).toHaveLength(1);
    await tick(120_000 - RETRY_SCHEDULE_MS[0]);
    await runAlarm();
    expect(r.received).toHaveLength(2);
    expect((await deliveriesOf(wh.id))[0]).toMatchObject({ status: "delivered", attempts: 2 });
  });

  it("keeps an exhausted delivery listed and redelivers it with the same webhook-id", async () => {
    const wh = await createWebhook({ url: "https://hooks.example.com/down", events: ["spec.verdict"] });
    let up = false;
    const r = receiver(() => new Response(up ? "ok" : "down", { status: up ? 200 : 503 }));
    restore = r.restore;
    await passedVerdict("prov-down");
    await runAlarm();
    for (const delay of RETRY_SCHEDULE_MS) {
      await tick(delay);
      await runAlarm();
    }
    expect(r.received).toHaveLength(RETRY_SCHEDULE_MS.length + 1);
    const [d] = await deliveriesOf(wh.id);
    expect(d).toMatchObject({ status: "failed", attempts: 8, next_attempt_at: null });
    await tick(24 * 3600_000);
    await runAlarm();
    expect(r.received).toHaveLength(8);

    up = true;
    const res = await api(`/v1/deliveries/${d.id}/redeliver`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await api(`/v1/deliveries/${d.id}/redeliver`, { method: "POST" }).then((x) => x.status)).toBe(409);
    await runAlarm();
    expect(r.received).toHaveLength(9);
    expect(r.received[8].headers["webhook-id"]).toBe(d.id);
    expect(verifyAt(wh.secret, r.received[8])).toMatchObject({ type: "spec.verdict" });
    expect((await deliveriesOf(wh.id))[0]).toMatchObject({ status: "delivered", id: d.id });
  });

  it("commits a state change and its outbox row together, or neither", async () => {
    await createWebhook({ url: "https://hooks.example.com/tx", events: ["spec.verdict"] });
    const r = receiver(() => new Response("ok"));
    restore = r.restore;
    const id = await dispatchSpec(`atomic ${crypto.randomUUID()}`, { provider: "prov-tx" });
    const run = await claimOne("ex-tx", "prov-tx");
    const outboxCount = () =>
      runInDurableObject(
        stub(),
        (_i, state) => state.storage.sql.exec("SELECT count(*) AS n FROM outbox").one().n as number,
      );
    const before = await outboxCount();

    // Make the outbox refuse writes: the verdict's spec update must roll back with it.
    await runInDurableObject(stub(), (_i, state) => {
      state.storage.sql.exec(
        "CREATE TRIGGER outbox_down BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'outbox unavailable'); END",
      );
    });
    const failed = await executorClient().verdict(run.run_id, {
      token: run.lease.token,
      outcome: "passed",
      flags: [],
      duration_ms: 1,
    });
    expect(failed.ok).toBe(false);
    expect(failed.status).toBe(500);
    expect(await specStatus(id)).toBe("leased");
    expect(await outboxCount()).toBe(before);

    await runInDurableObject(stub(), (_i, state) => {
      state.storage.sql.exec("DROP TRIGGER outbox_down");
    });
    await sendVerdict(run, { outcome: "passed" });
    expect(await specStatus(id)).toBe("awaiting_review");
    expect(await outboxCount()).toBe(before + 1);
    await runAlarm();
    expect(r.received.map((q) => JSON.parse(q.body).data.spec_id)).toEqual([id]);
  });
});

describe("a backlog in the outbox", () => {
  it("150 events waiting are fanned out and sent by the alarm, none left behind", async () => {
    await createWebhook({ url: "https://hooks.example.com/backlog", events: ["provider.tripped"] });
    const r = receiver(() => new Response("ok"));
    restore = r.restore;
    // More events than one statement can bind ids for, as after the alarm was kept from running.
    await runInDurableObject(stub(), (_i, state) => {
      const db = drizzle(state.storage, { schema: tables });
      for (let i = 0; i < 150; i++)
        emit(db, Date.now(), "provider.tripped", {
          provider: `backlog-${i}`,
          consecutive_failures: 3,
          failure_kind: "provider",
          open_until: new Date().toISOString(),
        });
    });
    const pending = () =>
      runInDurableObject(
        stub(),
        (_i, state) =>
          state.storage.sql.exec("SELECT count(*) AS n FROM outbox WHERE processed_at IS NULL").one()
            .n as number,
      );
    expect(await pending()).toBe(150);
    // Written behind the Fleet's back, they set no alarm: run it as the runtime would.
    const alarm = () => runInDurableObject(stub(), (fleet: Fleet) => fleet.alarm());
    await alarm();
    expect(await pending()).toBe(0);
    // Twenty deliveries go out per alarm; the rest follow on the next ones.
    for (let i = 0; i < 10 && r.received.length < 150; i++) await alarm();
    expect(new Set(r.received.map((q) => JSON.parse(q.body).data.provider)).size).toBe(150);
  });
});

describe("the private-address guard", () => {
  it("refuses loopback, private and link-local hosts unless ALLOW_PRIVATE_WEBHOOKS=true", () => {
    for (const url of [
      "http://localhost:8080/x",
      "http://127.0.0.1/x",
      "http://2130706433/x",
      "http://10.1.2.3/x",
      "http://192.168.1.1/x",
      "http://172.20.0.1/x",
      "http://169.254.169.254/latest",
      "http://[::1]/x",
      "http://[fd00::1]/x",
      "http://[::ffff:127.0.0.1]/x",
      "http://intranet/x",
    ]) {
      expect(checkWebhookUrl(url, false).ok, url).toBe(false);
      expect(checkWebhookUrl(url, true).ok, url).toBe(true);
    }
    expect(checkWebhookUrl("https://ntfy.sh/my-topic", false).ok).toBe(true);
    expect(checkWebhookUrl("ftp://example.com/x", true).ok).toBe(false);
  });

  it("checks redirect targets too, without following them blindly", async () => {
    const calls: string[] = [];
    const fetcher = async (url: string) => {
      calls.push(url);
      return new Response(null, { status: 307, headers: { location: "http://127.0.0.1:9000/admin" } });
    };
    const d = {
      id: "msg_test",
      body: "{}",
      contentType: "application/json",
      targetUrl: "https://hooks.example.com/r",
    };
    const result = await send(fetcher, "whsec_dGVzdC1zZWNyZXQtdGVzdC1zZWNyZXQ=", d, Date.now(), false);
    expect(calls).toEqual(["https://hooks.example.com/r"]);
    expect(result.status).toBeNull();
    expect(result.error).toMatch(/redirect target.*127\.0\.0\.1/);
  });

  it("refuses a private URL at creation when the switch is off, with a clear message", async () => {
    // The test worker runs with ALLOW_PRIVATE_WEBHOOKS=true; a bad scheme is refused regardless.
    const res = await api("/v1/webhooks", { body: { url: "ftp://example.com/x" } });
    expect(res.status).toBe(400);
  });
});

describe("the endpoints API", () => {
  it("shows the secret once, needs admin to change endpoints, and redacts URLs for readers", async () => {
    const wh = await createWebhook({
      url: "https://hooks.slack.com/services/T0/B0/secretpath",
      format: "slack",
    });
    expect(wh.secret).toMatch(/^whsec_/);
    const adminList = await (await api("/v1/webhooks")).text();
    expect(adminList).not.toContain(wh.secret);
    expect(adminList).toContain("secretpath");
    const readerList = await (await api("/v1/webhooks", { token: "read" })).text();
    expect(readerList).not.toContain("secretpath");
    expect(
      (await api("/v1/webhooks", { token: "dispatch", body: { url: "https://example.com/h" } })).status,
    ).toBe(403);
    expect((await api(`/v1/webhooks/${wh.id}`, { method: "DELETE", token: "dispatch" })).status).toBe(403);
    expect((await api("/v1/webhooks", { token: null })).status).toBe(401);
    expect(
      (await api("/v1/webhooks", { body: { url: "https://example.com/h", format: "pager" } })).status,
    ).toBe(400);
    const badSecret = await api("/v1/webhooks", {
      body: { url: "https://example.com/h", secret: "whsec_AAAA=AAAAAAAAAAAAAAA" },
    });
    expect(badSecret.status).toBe(400);
    expect(((await badSecret.json()) as { error: { code: string } }).error.code).toBe("invalid_secret");
    expect((await api(`/v1/webhooks/${wh.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await api(`/v1/webhooks/${wh.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await api("/v1/webhooks/wh_nope/deliveries")).status).toBe(404);
    expect((await api("/v1/deliveries/msg_nope/redeliver", { method: "POST" })).status).toBe(404);
  });
});

describe("formats and timeouts", () => {
  const dead: OutboundEvent = {
    type: "spec.dead",
    createdAt: Date.UTC(2026, 10, 21, 3, 0),
    payload: {
      spec_id: "k3f9x2ab",
      title: "Split the dispatcher",
      repo: "mtor",
      run_id: "k3f9x2ab-run3",
      attempt: 3,
      attempts: 3,
      failure: { kind: "timeout", message: "the run passed the spec's timeout of 2h" },
    },
  };
  const links = { retry: "https://mtor.example.com/actions/k3f9x2ab.retry.x.y.z" };
  const view = "https://mtor.example.com/specs/k3f9x2ab";

  it("renders Discord and Slack messages a person can read, with the links", () => {
    const discord = JSON.parse(
      render("discord", "https://discord.com/api/webhooks/1/abc", dead, links, view).body,
    );
    expect(discord.embeds[0].title).toBe("Spec is dead: Split the dispatcher");
    expect(discord.embeds[0].description).toContain(
      "failure timeout: the run passed the spec's timeout of 2h",
    );
    expect(discord.embeds[0].description).toContain(`[Retry](${links.retry})`);
    expect(discord.embeds[0].url).toBe(view);
    expect(discord.allowed_mentions).toEqual({ parse: [] });

    const slack = JSON.parse(
      render("slack", "https://hooks.slack.com/services/T/B/X", dead, links, view).body,
    );
    expect(slack.text).toContain("Spec is dead: Split the dispatcher");
    expect(
      slack.blocks[1].elements.map((e: { text: { text: string }; url: string }) => [e.text.text, e.url]),
    ).toEqual([
      ["Retry", links.retry],
      ["Open", view],
    ]);

    const standard = render("standard", "https://example.com/h", dead, links, view);
    expect(JSON.parse(standard.body)).toEqual({
      type: "spec.dead",
      timestamp: "2026-11-21T03:00:00.000Z",
      data: { ...dead.payload, actions: links, url: view },
    });
  });

  it("gives up on a receiver after 15 s and records why", async () => {
    let signal: AbortSignal | undefined;
    const fetcher = async (_url: string, init: RequestInit) => {
      signal = init.signal ?? undefined;
      throw new DOMException("The operation timed out.", "TimeoutError");
    };
    const d = {
      id: "msg_slow",
      body: "{}",
      contentType: "application/json",
      targetUrl: "https://hooks.example.com/slow",
    };
    const result = await send(fetcher, "whsec_dGVzdC1zZWNyZXQtdGVzdC1zZWNyZXQ=", d, Date.now(), false);
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(result).toEqual({ status: null, error: "timeout: no answer from hooks.example.com within 15 s" });
  });

  it("says which stage failed: DNS, connect, TLS, timeout or status", async () => {
    const d = (targetUrl: string) => ({
      id: "msg_stage",
      body: "{}",
      contentType: "application/json",
      targetUrl,
    });
    const secret = "whsec_dGVzdC1zZWNyZXQtdGVzdC1zZWNyZXQ=";
    const failing = (err: unknown) => async () => {
      throw err;
    };
    const dns = new TypeError("fetch failed", {
      cause: Object.assign(new Error("getaddrinfo ENOTFOUND nohost.example"), { code: "ENOTFOUND" }),
    });
    expect(
      (await send(failing(dns), secret, d("https://nohost.example/h"), Date.now(), false)).error,
    ).toMatch(/^DNS: nohost\.example does not resolve \(/);
    const refused = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    });
    expect(
      (await send(failing(refused), secret, d("https://hooks.example.com:8443/h"), Date.now(), false)).error,
    ).toMatch(/^connect: cannot connect to hooks\.example\.com:8443 \(/);
    const tls = new TypeError("fetch failed", { cause: new Error("unable to verify the first certificate") });
    expect(
      (await send(failing(tls), secret, d("https://hooks.example.com/h"), Date.now(), false)).error,
    ).toMatch(/^TLS: the secure connection to hooks\.example\.com:443 failed/);
    const opaque = new Error("internal error; reference = 0123abcd");
    expect(
      (await send(failing(opaque), secret, d("http://hooks.example.com/h"), Date.now(), false)).error,
    ).toBe(
      "connect: no connection to hooks.example.com:80 (DNS, TCP or TLS; the runtime says: internal error; reference = 0123abcd)",
    );
    const answered = async () => new Response("nope", { status: 503 });
    expect(await send(answered, secret, d("https://hooks.example.com/h"), Date.now(), false)).toMatchObject({
      status: 503,
      error: "status: answered 503",
    });
  });

  it("a real refused connection from the runtime is reported as a connection failure, not an opaque error", async () => {
    const d = {
      id: "msg_closed",
      body: "{}",
      contentType: "application/json",
      targetUrl: "http://127.0.0.1:9/h",
    };
    const result = await send(
      (u, i) => fetch(u, i),
      "whsec_dGVzdC1zZWNyZXQtdGVzdC1zZWNyZXQ=",
      d,
      Date.now(),
      true,
    );
    expect(result.status).toBeNull();
    expect(result.error).toMatch(/^connect: .*127\.0\.0\.1:9/);
  });
});

describe("POST /v1/webhooks/:id/test", () => {
  it("sends a sample verdict in the endpoint's format at once and answers the delivery; admin only", async () => {
    await deleteAllWebhooks();
    const r = receiver(() => new Response("ok"));
    try {
      const ep = await createWebhook({
        url: "https://ntfy.example.com/push/mtor-test-topic?auth=abc",
        format: "ntfy",
      });
      expect((await api(`/v1/webhooks/${ep.id}/test`, { method: "POST", token: "read" })).status).toBe(403);
      const res = await api(`/v1/webhooks/${ep.id}/test`, { method: "POST" });
      expect(res.status).toBe(200);
      const d = (await res.json()) as {
        status: string;
        event: string;
        attempts: number;
        last_status: number;
      };
      expect(d).toMatchObject({ status: "delivered", event: "spec.verdict", attempts: 1, last_status: 200 });
      expect(r.received).toHaveLength(1);
      // ntfy: posted to the topic's parent path, the query kept, the topic in the body.
      expect(r.received[0].url).toBe("https://ntfy.example.com/push?auth=abc");
      expect(JSON.parse(r.received[0].body)).toMatchObject({
        topic: "mtor-test-topic",
        title: expect.stringContaining("mtor test notification"),
      });
      expect(r.received[0].headers["webhook-signature"]).toMatch(/^v1,/);
      // It is listed with the endpoint's deliveries like any other.
      const log = (await (await api(`/v1/webhooks/${ep.id}/deliveries`)).json()) as {
        deliveries: { id: string }[];
      };
      expect(log.deliveries.length).toBe(1);
    } finally {
      r.restore();
    }
    expect((await api("/v1/webhooks/wh_nosuchhook/test", { method: "POST" })).status).toBe(404);
  });

  it("is sent once even when the alarm's delivery pass runs while it is in flight", async () => {
    await deleteAllWebhooks();
    // The first request is held open while the Fleet's alarm runs: a pass that found the test
    // delivery still due would send it a second time.
    const r = receiver(async (_req, n) => {
      if (n === 1) {
        await runInDurableObject(stub(), (_i, state) => state.storage.setAlarm(Date.now()));
        await runAlarm();
      }
      return new Response("ok");
    });
    try {
      const ep = await createWebhook({ url: "https://hooks.example.com/once", format: "standard" });
      const res = await api(`/v1/webhooks/${ep.id}/test`, { method: "POST" });
      expect(res.status).toBe(200);
      expect(r.received).toHaveLength(1);
    } finally {
      r.restore();
      await deleteAllWebhooks();
    }
  });

  it("a failing receiver: the answer says what failed, and the delivery stays pending for its retries", async () => {
    await deleteAllWebhooks();
    const r = receiver(() => new Response("down", { status: 502 }));
    try {
      const ep = await createWebhook({ url: "https://hooks.example.com/mtor", format: "slack" });
      const d = (await (await api(`/v1/webhooks/${ep.id}/test`, { method: "POST" })).json()) as {
        status: string;
        last_error: string;
      };
      expect(d).toMatchObject({ status: "pending", last_error: "status: answered 502" });
      expect(JSON.parse(r.received[0].body)).toHaveProperty("blocks");
    } finally {
      r.restore();
      await deleteAllWebhooks();
    }
  });
});
