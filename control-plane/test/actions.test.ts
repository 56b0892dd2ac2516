// Phone actions: signed single-use links from a verdict notification. GET only shows a confirm
// page; POST acts once; reuse, expiry and tampering each get a clear HTML page with a 4xx.

import { env, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BUDGET_SUBJECT, newActionToken } from "../src/actions/links";
import { api, dispatchSpec, startClock, tick } from "./helpers";
import {
  claimOne,
  createWebhook,
  deleteAllWebhooks,
  receiver,
  runAlarm,
  sendVerdict,
  specStatus,
} from "./webhooks-helpers";

let restore: (() => void) | undefined;
beforeEach(async () => {
  await startClock(Date.now());
});
afterEach(async () => {
  restore?.();
  restore = undefined;
  await deleteAllWebhooks();
});

/** A spec awaiting review and the action links its verdict notification carried. */
async function verdictWithLinks(format: "standard" | "ntfy" = "standard") {
  await createWebhook({
    url: format === "ntfy" ? "https://ntfy.example.com/mtor-night" : "https://hooks.example.com/phone",
    format,
    events: ["spec.verdict"],
    links_base: "https://mtor.example.com",
  });
  const r = receiver(() => new Response("ok"));
  restore = r.restore;
  const provider = `a-${crypto.randomUUID().slice(0, 8)}`;
  const id = await dispatchSpec(`phone ${provider}`, { provider });
  const run = await claimOne(`ex-${provider}`, provider);
  await sendVerdict(run, { outcome: "passed", branch: `mtor/${id}-1` });
  await runAlarm();
  expect(r.received).toHaveLength(1);
  return { id, received: r.received[0], body: JSON.parse(r.received[0].body) };
}

/** Opens a link the way a phone would: on the Worker, whatever host the link names. */
const open = (url: string, init?: RequestInit) =>
  SELF.fetch(url.replace("https://mtor.example.com", "http://mtor.test"), init);
const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

describe("phone action links", () => {
  it("an unused approve link from attempt 1 does not approve attempt 2", async () => {
    const { id, body } = await verdictWithLinks();
    const staleApprove: string = body.data.actions.approve;
    // The operator declines with a retry from the API; attempt 2 passes too.
    const declined = await api(`/v1/specs/${id}/decline`, { body: { retry: true, note: "again" } });
    expect(declined.status).toBe(200);
    const provider = ((await (await api(`/v1/specs/${id}`)).json()) as { provider: string }).provider;
    const run2 = await claimOne(`ex-${provider}`, provider);
    expect(run2.attempt).toBe(2);
    await sendVerdict(run2, { outcome: "passed", branch: `mtor/${id}-2`, head_sha: "b".repeat(40) });
    expect(await specStatus(id)).toBe("awaiting_review");
    await runAlarm();

    const res = await open(staleApprove, form({}));
    expect(res.status).toBe(409);
    expect(await res.text()).toContain("has moved on to attempt 2");
    expect(await specStatus(id)).toBe("awaiting_review");
  });

  it("a link approves once: GET only asks, POST approves, the second use is refused", async () => {
    const { id, body } = await verdictWithLinks();
    const links = body.data.actions as Record<string, string>;
    expect(Object.keys(links).sort()).toEqual(["approve", "decline", "retry"]);
    expect(links.approve).toMatch(/^https:\/\/mtor\.example\.com\/actions\//);
    expect(body.data.url).toBe(`https://mtor.example.com/specs/${id}`);

    // A link preview or prefetch changes nothing.
    for (let i = 0; i < 2; i++) {
      const page = await open(links.approve);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/text\/html/);
      expect(await page.text()).toContain("Approve this spec?");
    }
    expect(await specStatus(id)).toBe("awaiting_review");

    const done = await open(links.approve, form({ grade: "B+" }));
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Approved");
    const spec = (await (await api(`/v1/specs/${id}`)).json()) as {
      status: string;
      review: { grade: string; by: string };
    };
    expect(spec.status).toBe("approved");
    expect(spec.review).toMatchObject({ grade: "B+", by: "phone link" });

    for (const init of [form({}), undefined]) {
      const again = await open(links.approve, init);
      expect(again.status).toBe(409);
      const text = await again.text();
      expect(text).toContain("already used");
      expect(text).not.toMatch(/error|stack|at \w+ \(/i);
    }
    // The spec's other links cannot undo it either: the transition is refused with a clear page.
    const decline = await open(links.decline, form({}));
    expect(decline.status).toBe(409);
    expect(await decline.text()).toContain("This cannot be done now");
    expect(await specStatus(id)).toBe("approved");
  });

  it("refuses an expired link", async () => {
    const { id, body } = await verdictWithLinks();
    await tick(24 * 3600_000 + 1000);
    const res = await open(body.data.actions.approve, form({}));
    expect(res.status).toBe(410);
    expect(await res.text()).toContain("This link has expired");
    expect(await specStatus(id)).toBe("awaiting_review");
    expect((await open(body.data.actions.approve)).status).toBe(410);
  });

  it("refuses a tampered link: another action, another spec, a changed expiry or signature", async () => {
    const { id, body } = await verdictWithLinks();
    const url: string = body.data.actions.decline;
    const token = url.split("/actions/")[1];
    const [spec, action, exp, nonce, run, sig] = token.split(".");
    const other = await dispatchSpec(`other ${crypto.randomUUID()}`, { provider: "unclaimed" });
    const forged = [
      [spec, "approve", exp, nonce, run, sig],
      [other, action, exp, nonce, run, sig],
      [spec, action, (Number.parseInt(exp, 36) + 86400).toString(36), nonce, run, sig],
      [spec, action, exp, nonce, "rsomeotherrun", sig],
      [spec, action, exp, nonce, run, `${sig.slice(0, -2)}AA`],
    ].map((parts) => `http://mtor.test/actions/${parts.join(".")}`);
    for (const f of forged) {
      const res = await SELF.fetch(f, form({}));
      expect(res.status, f).toBe(403);
      expect(await res.text()).toContain("This link is not valid");
    }
    const cut = await SELF.fetch(`http://mtor.test/actions/${token.slice(0, 20)}`, form({}));
    expect(cut.status).toBe(400);
    expect(await cut.text()).toContain("not complete");
    expect(await specStatus(id)).toBe("awaiting_review");
    expect(await specStatus(other)).toBe("queued");
  });

  it("a link signed with another secret is refused", async () => {
    const id = await dispatchSpec(`foreign ${crypto.randomUUID()}`, { provider: "unclaimed" });
    const token = await newActionToken("not-the-secret", id, "rnone", "retry", Date.now());
    const res = await SELF.fetch(`http://mtor.test/actions/${token}`, form({}));
    expect(res.status).toBe(403);
  });

  it("refuses a well-signed link that joins a budget action to a spec, or a spec action to the budget", async () => {
    const id = await dispatchSpec(`mixed ${crypto.randomUUID()}`, { provider: "unclaimed" });
    const secret = (env as { ACTION_SECRET: string }).ACTION_SECRET;
    const mixed = [
      await newActionToken(secret, id, "rnone", "resume", Date.now()),
      await newActionToken(secret, BUDGET_SUBJECT, "rnone", "approve", Date.now()),
    ];
    for (const token of mixed) {
      const res = await SELF.fetch(`http://mtor.test/actions/${token}`, form({}));
      expect(res.status, token).toBe(400);
      expect(await res.text()).toContain("This link is not complete");
    }
    expect(await specStatus(id)).toBe("queued");
  });

  it("ntfy buttons POST straight to the link, with no body, and act", async () => {
    const { id, received, body } = await verdictWithLinks("ntfy");
    expect(received.url).toBe("https://ntfy.example.com/");
    expect(body).toMatchObject({
      topic: "mtor-night",
      priority: 3,
      click: `https://mtor.example.com/specs/${id}`,
    });
    expect(body.title).toContain("phone");
    expect(body.actions.map((a: { label: string; method: string }) => `${a.label}:${a.method}`)).toEqual([
      "Approve:POST",
      "Decline:POST",
      "Retry:POST",
    ]);
    // Retry on a spec awaiting review declines it and queues another attempt.
    const res = await open(body.actions[2].url, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await specStatus(id)).toBe("queued");
  });
});
