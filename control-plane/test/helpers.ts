// Test helpers: operator requests, signed executor requests, and the Fleet's pinned clock.

import { env, SELF } from "cloudflare:test";
import { ExecutorClient } from "@mtor/schema/client";
import type { ClaimRequest, ClaimResponse, ExecutorInfo } from "@mtor/schema/wire";
import { fleetOf } from "../src/app-env";
import { testFleetOf } from "./worker";

export const BASE = "http://mtor.test";
export const TOKENS = { admin: "test-admin-token", dispatch: "test-dispatch-token", read: "test-read-token" };

export const fleet = () => fleetOf(env);
/** The test build's Fleet: its clock and its seeding (test/worker/test-fleet.ts). */
export const testFleet = () => testFleetOf(env);

/** Pins the Fleet's clock (ms) and returns it. */
export async function setClock(ms: number): Promise<number> {
  const r = await testFleet().setClock(ms);
  if (!r.ok) throw new Error(r.error.message);
  return ms;
}

export function api(
  path: string,
  init: {
    method?: string;
    token?: keyof typeof TOKENS | null;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? "admin" : init.token;
  if (token) headers.authorization = `Bearer ${TOKENS[token]}`;
  let body: BodyInit | undefined;
  if (init.body !== undefined) {
    if (typeof init.body === "string") {
      body = init.body;
      headers["content-type"] ??= "text/markdown";
    } else {
      body = JSON.stringify(init.body);
      headers["content-type"] ??= "application/json";
    }
  }
  return SELF.fetch(`${BASE}${path}`, { method: init.method ?? (body ? "POST" : "GET"), headers, body });
}

export function specText(title: string, fields: Record<string, string> = {}, body = "Do the thing."): string {
  const fm = { repo: "mtor", tests: "[test_a]", stop: "Stop after test_a.", ...fields };
  return `---\ntitle: ${title}\n${Object.entries(fm)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n")}\n---\n${body}\n`;
}

export async function dispatchSpec(
  title: string,
  fields: Record<string, string> = {},
  body?: string,
): Promise<string> {
  const res = await api("/v1/specs", { body: specText(title, fields, body ?? `Do ${title}.`) });
  const json = (await res.json()) as { id: string };
  if (res.status !== 201) throw new Error(`dispatch failed ${res.status}: ${JSON.stringify(json)}`);
  return json.id;
}

/** A signed client whose clock follows the Fleet's pinned clock. */
export function executorClient(
  opts: { keyId?: string; secret?: string; now?: () => number } = {},
): ExecutorClient {
  return new ExecutorClient({
    url: BASE,
    keyId: opts.keyId ?? "k1",
    secret: opts.secret ?? "test-secret-one",
    fetch: (r) => SELF.fetch(r),
    now: opts.now ?? (() => Math.floor((clockMs || Date.now()) / 1000)),
  });
}

/** The test's notion of now, kept in step with the Fleet by `tick`/`startClock`. */
let clockMs = 0;

export async function startClock(ms = Date.UTC(2026, 0, 10, 22, 0, 0)): Promise<number> {
  clockMs = ms;
  return setClock(ms);
}

export async function tick(ms: number): Promise<number> {
  clockMs += ms;
  return setClock(clockMs);
}

export const nowMs = () => clockMs;

export function executorInfo(id: string, over: Partial<ExecutorInfo> = {}): ExecutorInfo {
  return {
    id,
    host: `${id}.local`,
    version: "0.1.0",
    arch: "x64",
    capacity: 4,
    providers: ["zhipu"],
    repos: ["mtor"],
    load: { cpu: 0.2, mem_free: 0.6, disk_free: 0.5 },
    ...over,
  };
}

export function claimBody(id: string, over: Partial<ExecutorInfo> = {}, free = 1, wait_s = 0): ClaimRequest {
  return { executor: executorInfo(id, over), free, wait_s };
}

/** One claim by executor `id` for `repos` and one provider, failing the test on an error answer. */
export async function claimFor(
  id: string,
  repos: string[],
  provider: string,
  waitS = 0,
): Promise<ClaimResponse> {
  const res = await executorClient().claim(claimBody(id, { repos, providers: [provider] }, 1, waitS));
  if (!res.ok) throw new Error(JSON.stringify(res.error));
  return res.data;
}
