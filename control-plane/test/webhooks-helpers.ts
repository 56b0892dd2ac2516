// Helpers for the notification tests: a scripted webhook receiver in place of the network, and
// the shortest paths to a verdict, a run and the Fleet's alarm.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import type { ClaimedRun, VerdictRequest } from "@mtor/schema/wire";
import { expect, vi } from "vitest";
import { api, claimBody, dispatchSpec, executorClient, fleet } from "./helpers";

export interface Received {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Replaces the global fetch the Fleet's alarm uses (the Worker, the Fleet and the tests share one
 * isolate) with a receiver that records every request and answers with `answer`.
 */
export function receiver(answer: (req: Received, n: number) => Response | Promise<Response>) {
  const received: Received[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const rec: Received = {
      url: req.url,
      headers: Object.fromEntries(req.headers.entries()),
      body: await req.text(),
    };
    received.push(rec);
    return answer(rec, received.length);
  });
  return { received, restore: () => spy.mockRestore() };
}

export const stub = () => env.FLEET.get(env.FLEET.idFromName("fleet"));

/** Runs the Fleet's alarm the way the runtime would when it is due. */
export const runAlarm = () => runDurableObjectAlarm(stub());

export async function createWebhook(body: Record<string, unknown>) {
  const res = await api("/v1/webhooks", { body });
  const json = (await res.json()) as { id: string; secret: string; enabled: boolean };
  if (res.status !== 201) throw new Error(`webhook create failed ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

export async function deleteAllWebhooks() {
  const res = await api("/v1/webhooks");
  const { webhooks } = (await res.json()) as { webhooks: { id: string }[] };
  for (const w of webhooks) await api(`/v1/webhooks/${w.id}`, { method: "DELETE" });
}

export async function deliveriesOf(id: string) {
  const res = await api(`/v1/webhooks/${id}/deliveries`);
  return (
    (await res.json()) as {
      deliveries: {
        id: string;
        event: string;
        status: string;
        attempts: number;
        next_attempt_at: string | null;
        last_status: number | null;
        log: { status: number | null }[];
      }[];
    }
  ).deliveries;
}

/** Claims one run and picks it up with the first heartbeat, as an executor does at once. */
export async function claimOne(executorId: string, provider: string, repo = "mtor"): Promise<ClaimedRun> {
  const r = await executorClient().claim(claimBody(executorId, { providers: [provider], repos: [repo] }));
  if (!r.ok || r.data.runs.length !== 1) throw new Error(`claim failed: ${JSON.stringify(r)}`);
  const run = r.data.runs[0];
  const hb = await executorClient().heartbeat(run.run_id, { token: run.lease.token, phase: "claimed" });
  if (!hb.ok) throw new Error(`first heartbeat failed: ${JSON.stringify(hb)}`);
  return run;
}

export async function sendVerdict(
  run: ClaimedRun,
  v: Partial<VerdictRequest> & Pick<VerdictRequest, "outcome">,
) {
  const r = await executorClient().verdict(run.run_id, {
    token: run.lease.token,
    flags: [],
    duration_ms: 1000,
    ...v,
  });
  if (!r.ok) throw new Error(`verdict failed: ${JSON.stringify(r)}`);
  return r.data;
}

/** Dispatches a spec in `repo` for `provider` and takes it to awaiting_review through a passed verdict. */
export async function toAwaitingReview(repo: string, provider: string, title: string): Promise<string> {
  const id = await dispatchSpec(title, { repo, provider });
  const run = await claimOne(`ex-${provider}`, provider, repo);
  expect(run.spec_id).toBe(id);
  expect((await sendVerdict(run, { outcome: "passed", branch: `mtor/${id}-1` })).status).toBe(
    "awaiting_review",
  );
  return id;
}

export async function specStatus(id: string): Promise<string> {
  const res = await api(`/v1/specs/${id}`);
  return ((await res.json()) as { status: string }).status;
}

export async function monitorPass() {
  const r = await fleet().monitorPass();
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}
