// Webhook delivery, driven by the Fleet's alarm: fan each outbox event out to the endpoints that
// want it (one delivery row each, body rendered once), then send what is due, signed per the
// Standard Webhooks spec, retrying on the fixed schedule until a 2xx, a 410 or exhaustion.

import { eventSubject, outboxEvent } from "@mtor/schema/events";
import { outbox } from "@mtor/schema/tables/outbox";
import {
  actionLinks,
  type DeliveryAttempt,
  webhookDeliveries,
  webhookEndpoints,
} from "@mtor/schema/tables/webhooks";
import { and, asc, eq, inArray, isNull, lte, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { actionUrl, BUDGET_SUBJECT, newActionToken } from "../actions/links";
import type { Db, Deps } from "../core/db";
import { randomBase36 } from "../core/ids";
import { describeFetchError, describeStatus } from "./failure";
import { type ActionLinks, actionsFor, type OutboundEvent, render } from "./formats";
import { checkWebhookUrl } from "./guard";

/** Delays before the 2nd … 8th attempt. */
export const RETRY_SCHEDULE_MS = [5e3, 5 * 60e3, 30 * 60e3, 2 * 3600e3, 5 * 3600e3, 10 * 3600e3, 10 * 3600e3];
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length + 1;
export const REQUEST_TIMEOUT_MS = 15_000;
/** Longest Retry-After we honour; beyond it the receiver is treated as gone for a day. */
const MAX_RETRY_AFTER_MS = 24 * 3600e3;
const FANOUT_BATCH = 100;
const SEND_BATCH = 20;
const MAX_REDIRECTS = 3;
const LOG_KEEP = 20;
/** How long a delivery being sent is kept from every other pass: the request's timeout and a margin. */
const IN_FLIGHT_MS = REQUEST_TIMEOUT_MS + 5_000;

export interface WebhookEnv {
  ACTION_SECRET?: string;
  ALLOW_PRIVATE_WEBHOOKS?: string;
}

export type Fetcher = (input: string, init: RequestInit) => Promise<Response>;

export const allowPrivate = (env: WebhookEnv) => env.ALLOW_PRIVATE_WEBHOOKS === "true";
export const newDeliveryId = () => `msg_${randomBase36(24)}`;

/** Creates delivery rows for events not yet fanned out. Returns how many events it processed. */
export async function fanOut(deps: Deps, env: WebhookEnv): Promise<number> {
  const { db } = deps;
  const events = db
    .select()
    .from(outbox)
    .where(isNull(outbox.processedAt))
    .orderBy(asc(outbox.processedAt), asc(outbox.id))
    .limit(FANOUT_BATCH)
    .all();
  if (!events.length) return 0;
  const endpoints = db.select().from(webhookEndpoints).where(eq(webhookEndpoints.enabled, true)).all();

  // Action links need WebCrypto, which is async: render everything first, then write it all in
  // one synchronous transaction that skips events another alarm got to in the meantime.
  const rows: (typeof webhookDeliveries.$inferInsert)[] = [];
  for (const e of events) {
    const event: OutboundEvent = { ...outboxEvent(e), createdAt: e.createdAt };
    const about = eventSubject(event);
    for (const ep of endpoints) {
      if (!ep.events.includes(e.type)) continue;
      const links: ActionLinks = {};
      const specId = about?.spec_id ?? null;
      const runId = about?.run_id ?? null;
      // A link acts only on the run (or the budget's reach) it was sent for, so an event about
      // neither carries none.
      const reachId = event.type === "budget.reached" ? event.payload.reach_id : null;
      const subject =
        specId && runId ? { id: specId, run: runId } : reachId ? { id: BUDGET_SUBJECT, run: reachId } : null;
      if (env.ACTION_SECRET && subject) {
        for (const action of actionsFor(event)) {
          links[action] = actionUrl(
            ep.linksBase,
            await newActionToken(env.ACTION_SECRET, subject.id, subject.run, action, deps.now()),
          );
        }
      }
      const view = specId ? `${ep.linksBase}/specs/${specId}` : reachId ? `${ep.linksBase}/` : undefined;
      const r = render(ep.format, ep.url, event, links, view);
      rows.push({
        id: newDeliveryId(),
        endpointId: ep.id,
        outboxId: e.id,
        event: e.type,
        body: r.body,
        contentType: r.contentType,
        targetUrl: r.targetUrl,
        status: "pending",
        attempts: 0,
        nextAttemptAt: deps.now(),
        log: [],
        createdAt: deps.now(),
      });
    }
  }
  const ids = events.map((e) => e.id);
  return db.transaction((tx) => {
    const still = new Set(
      chunksOf(ids).flatMap((part) =>
        tx
          .select({ id: outbox.id })
          .from(outbox)
          .where(and(inArray(outbox.id, part), isNull(outbox.processedAt)))
          .all()
          .map((r) => r.id),
      ),
    );
    for (const row of rows) if (still.has(row.outboxId)) tx.insert(webhookDeliveries).values(row).run();
    for (const part of chunksOf([...still])) {
      tx.update(outbox).set({ processedAt: deps.now() }).where(inArray(outbox.id, part)).run();
    }
    return still.size;
  });
}

/**
 * Durable Object SQLite binds at most 100 parameters to one statement: a full batch of ids and
 * the time beside them threw, and the outbox stayed stuck behind it.
 */
const IDS_PER_STATEMENT = 50;

function chunksOf<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += IDS_PER_STATEMENT) out.push(items.slice(i, i + IDS_PER_STATEMENT));
  return out;
}

/**
 * "Send a test notification": a sample `spec.verdict` in the endpoint's own format, written as
 * an ordinary delivery (listed, retried, redeliverable) and sent at once. Its `outbox_id` is 0:
 * no state change caused it. Returns the delivery after its first attempt.
 */
export async function sendTestDelivery(
  deps: Deps,
  env: WebhookEnv,
  endpointId: string,
  fetcher: Fetcher = (u, i) => fetch(u, i),
): Promise<Delivery | null> {
  const { db } = deps;
  const ep = db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId)).get();
  if (!ep) return null;
  const now = deps.now();
  const event: OutboundEvent = {
    type: "spec.verdict",
    createdAt: now,
    payload: {
      test: true,
      spec_id: "test0000",
      title: "mtor test notification",
      repo: "mtor",
      run_id: "test0000-1",
      attempt: 1,
      provider: "demo",
      executor: "test",
      outcome: "passed",
      status: "awaiting_review",
      flags: [],
      branch: null,
      head_sha: null,
      diffstat: null,
      grade: null,
      review: null,
      note: "Sent by POST /v1/webhooks/:id/test; no spec is behind it.",
    },
  };
  const r = render(ep.format, ep.url, event, {}, `${ep.linksBase}/`);
  const row: typeof webhookDeliveries.$inferInsert = {
    id: newDeliveryId(),
    endpointId: ep.id,
    outboxId: 0,
    event: event.type,
    body: r.body,
    contentType: r.contentType,
    targetUrl: r.targetUrl,
    status: "pending",
    attempts: 0,
    nextAttemptAt: now,
    log: [],
    createdAt: now,
  };
  db.insert(webhookDeliveries).values(row).run();
  const inserted = db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.id, row.id))
    .get() as Delivery;
  await attempt(deps, env, fetcher, inserted);
  return db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, row.id)).get() ?? null;
}

/** Sends every delivery that is due. Returns how many attempts it made. */
export async function deliverDue(
  deps: Deps,
  env: WebhookEnv,
  fetcher: Fetcher = (u, i) => fetch(u, i),
): Promise<number> {
  const { db } = deps;
  const due = db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.status, "pending"), lte(webhookDeliveries.nextAttemptAt, deps.now())))
    .orderBy(asc(webhookDeliveries.status), asc(webhookDeliveries.nextAttemptAt))
    .limit(SEND_BATCH)
    .all();
  const results = await Promise.allSettled(due.map((d) => attempt(deps, env, fetcher, d)));
  for (const r of results) if (r.status === "rejected") console.error("webhook attempt failed", r.reason);
  return due.length;
}

type Delivery = typeof webhookDeliveries.$inferSelect;

async function attempt(deps: Deps, env: WebhookEnv, fetcher: Fetcher, d: Delivery): Promise<void> {
  const { db } = deps;
  const ep = db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, d.endpointId)).get();
  if (!ep?.enabled) {
    db.update(webhookDeliveries)
      .set({
        status: "disabled",
        nextAttemptAt: null,
        lastError: ep ? "endpoint disabled" : "endpoint deleted",
      })
      .where(eq(webhookDeliveries.id, d.id))
      .run();
    return;
  }
  const startedAt = deps.now();
  // Claim the row before the first await: the input gate opens at the fetch, and another pass
  // (the alarm's, or a test send) would otherwise find it due and send it a second time. A
  // crash mid-send leaves it pending, due again once the claim runs out.
  db.update(webhookDeliveries)
    .set({ nextAttemptAt: startedAt + IN_FLIGHT_MS })
    .where(and(eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.status, "pending")))
    .run();
  const result = await send(fetcher, ep.secret, d, startedAt, allowPrivate(env));
  const now = deps.now();
  const log: DeliveryAttempt[] = [
    ...d.log,
    { at: startedAt, status: result.status, error: result.error, duration_ms: Math.max(0, now - startedAt) },
  ].slice(-LOG_KEEP);
  const attempts = d.attempts + 1;
  const base = { attempts, lastStatus: result.status, lastError: result.error, log };
  // Only update a row that is still the pending delivery we sent: a redelivery or an endpoint
  // deletion may have run while the request was in flight.
  const still = and(eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.status, "pending"));

  if (result.status !== null && result.status >= 200 && result.status < 300) {
    db.update(webhookDeliveries)
      .set({ ...base, status: "delivered", nextAttemptAt: null, deliveredAt: now })
      .where(still)
      .run();
    return;
  }
  if (result.status === 410) {
    db.transaction((tx) => {
      tx.update(webhookDeliveries)
        .set({
          ...base,
          status: "failed",
          nextAttemptAt: null,
          lastError: "410 Gone: the endpoint was disabled",
        })
        .where(still)
        .run();
      tx.update(webhookEndpoints)
        .set({ enabled: false, disabledReason: `answered 410 Gone at ${new Date(now).toISOString()}` })
        .where(eq(webhookEndpoints.id, ep.id))
        .run();
      tx.update(webhookDeliveries)
        .set({ status: "disabled", nextAttemptAt: null, lastError: "endpoint disabled after 410 Gone" })
        .where(and(eq(webhookDeliveries.endpointId, ep.id), eq(webhookDeliveries.status, "pending")))
        .run();
    });
    return;
  }
  if (attempts >= MAX_ATTEMPTS) {
    db.update(webhookDeliveries)
      .set({ ...base, status: "failed", nextAttemptAt: null })
      .where(still)
      .run();
    return;
  }
  const delay = Math.max(RETRY_SCHEDULE_MS[attempts - 1], result.retryAfterMs ?? 0);
  db.update(webhookDeliveries)
    .set({ ...base, nextAttemptAt: now + delay })
    .where(still)
    .run();
}

interface SendResult {
  status: number | null;
  error: string | null;
  retryAfterMs?: number;
}

/** One signed POST, following at most three 307/308 redirects, each checked by the URL guard. */
export async function send(
  fetcher: Fetcher,
  secret: string,
  d: Pick<Delivery, "id" | "body" | "contentType" | "targetUrl">,
  now: number,
  allowPrivateUrls: boolean,
): Promise<SendResult> {
  const headers = {
    "content-type": d.contentType,
    "user-agent": "mtor-webhooks/1",
    "webhook-id": d.id,
    "webhook-timestamp": String(Math.floor(now / 1000)),
    "webhook-signature": new Webhook(secret).sign(d.id, new Date(now), d.body),
  };
  let url = d.targetUrl;
  for (let hop = 0; ; hop++) {
    const check = checkWebhookUrl(url, allowPrivateUrls);
    if (!check.ok)
      return { status: null, error: `refused ${hop ? "redirect target" : "URL"}: ${check.reason}` };
    let res: Response;
    try {
      res = await fetcher(check.url.toString(), {
        method: "POST",
        headers,
        body: d.body,
        redirect: "manual",
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      return { status: null, error: describeFetchError(err, check.url, REQUEST_TIMEOUT_MS) };
    }
    await res.body?.cancel().catch(() => {});
    const location = res.headers.get("location");
    if ((res.status === 307 || res.status === 308) && location && hop < MAX_REDIRECTS) {
      try {
        url = new URL(location, check.url).toString();
      } catch {
        return {
          status: res.status,
          error: `redirect to an invalid location ${JSON.stringify(location.slice(0, 200))}`,
        };
      }
      continue;
    }
    if (res.status >= 200 && res.status < 300) return { status: res.status, error: null };
    const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), now);
    const error = describeStatus(res.status);
    return { status: res.status, error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
}

/** `Retry-After` as seconds or an HTTP date, in ms from now, capped at a day. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** When the alarm should next run (Fleet clock, ms), or null when nothing waits. */
export function nextWake(db: Db, now: number): number | null {
  const unprocessed = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(isNull(outbox.processedAt))
    .limit(1)
    .get();
  if (unprocessed) return now;
  const next = db
    .select({ at: webhookDeliveries.nextAttemptAt })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.status, "pending"))
    .orderBy(asc(webhookDeliveries.status), asc(webhookDeliveries.nextAttemptAt))
    .limit(1)
    .get();
  return next?.at ?? null;
}

/** One alarm's worth of webhook work. Returns when it wants to run again (Fleet clock, ms). */
export async function runWebhookAlarm(
  deps: Deps,
  env: WebhookEnv,
  fetcher?: Fetcher,
): Promise<number | null> {
  // Fan out until the outbox is drained or a few batches are done, then send what is due.
  for (let i = 0; i < 5 && (await fanOut(deps, env)) > 0; i++);
  await deliverDue(deps, env, fetcher);
  return nextWake(deps.db, deps.now());
}

const KEEP_MS = 14 * 24 * 3600e3;
const PRUNE_BATCH = 500;

/**
 * Forgets what is old, in bounded batches through indexes: fanned-out outbox rows, finished
 * deliveries and used action links past their expiry (an expired link is refused anyway).
 */
export function pruneOld(db: Db, now: number): void {
  const cutoff = now - KEEP_MS;
  db.run(
    sql`DELETE FROM ${outbox} WHERE ${outbox.id} IN (SELECT ${outbox.id} FROM ${outbox} WHERE ${outbox.processedAt} < ${cutoff} ORDER BY ${outbox.processedAt} LIMIT ${PRUNE_BATCH})`,
  );
  for (const status of ["delivered", "failed", "disabled"]) {
    db.run(
      sql`DELETE FROM ${webhookDeliveries} WHERE ${webhookDeliveries.id} IN (SELECT ${webhookDeliveries.id} FROM ${webhookDeliveries} WHERE ${webhookDeliveries.status} = ${status} AND ${webhookDeliveries.nextAttemptAt} IS NULL AND ${webhookDeliveries.createdAt} < ${cutoff} LIMIT ${PRUNE_BATCH})`,
    );
  }
  db.run(
    sql`DELETE FROM ${actionLinks} WHERE ${actionLinks.nonce} IN (SELECT ${actionLinks.nonce} FROM ${actionLinks} WHERE ${actionLinks.expiresAt} < ${now} ORDER BY ${actionLinks.expiresAt} LIMIT ${PRUNE_BATCH})`,
  );
}
