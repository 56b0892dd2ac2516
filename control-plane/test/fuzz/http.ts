// Sending fuzzed requests to the Worker and checking what every answer must be: never a 5xx,
// errors in the envelope (or a clear page on the dashboard and action links), no secret echoed.
import { SELF } from "cloudflare:test";
import { ErrorEnvelope } from "@mtor/schema/wire";
import { expect, inject } from "vitest";
import type { Body } from "./arbitraries";
import type { Area } from "./routes";

declare module "vitest" {
  interface ProvidedContext {
    /** Total fuzz cases wanted; set by `npm run fuzz` (bench/fuzz.ts). */
    fuzzRuns?: number;
  }
  interface TaskMeta {
    /** Cases run and answers by status, read back by `npm run fuzz` for its summary. */
    fuzz?: { cases: number; statuses: Record<string, number> };
  }
}

export const BASE = "http://mtor.test";

/** Every secret the test Worker knows; none may ever be sent back. */
export const SECRETS = [
  "test-admin-token",
  "test-dispatch-token",
  "test-read-token",
  "test-secret-one",
  "test-secret-two",
  "test-action-secret",
];

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Body;
}

export function toRequest(r: FuzzRequest): Request {
  const noBody = r.method === "GET" || r.method === "HEAD";
  return new Request(`${BASE}${r.path}`, {
    method: r.method,
    headers: r.headers,
    body: noBody || r.body === undefined ? undefined : r.body,
    // A redirect (the dashboard's 303 to the login) is an answer to check, not one to follow.
    redirect: "manual",
  });
}

export interface Answer {
  status: number;
  type: string;
  text: string;
  headers: Headers;
}

export async function send(r: FuzzRequest): Promise<Answer> {
  const res = await SELF.fetch(toRequest(r));
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type") ?? "", text, headers: res.headers };
}

/** Secrets the caller sent may come back only where the protocol puts them (none do today). */
export function expectNoSecret(a: Answer, also: readonly string[] = []): void {
  const headers = [...a.headers.entries()].filter(([k]) => k !== "set-cookie").map(([k, v]) => `${k}: ${v}`);
  const haystack = `${a.text}\n${headers.join("\n")}`;
  for (const s of [...SECRETS, ...also]) {
    if (haystack.includes(s))
      throw new Error(`the answer (${a.status}) contains the secret ${s.slice(0, 6)}…`);
  }
}

/** What every answer must be, whatever was sent. */
export function expectWellFormed(a: Answer, area: Area | "unknown", method: string): void {
  if (a.status >= 500) throw new Error(`${a.status} answer: ${a.text.slice(0, 300)}`);
  expectNoSecret(a);
  if (a.status < 400 || method === "HEAD") return;
  if (
    /application\/json/.test(a.type) ||
    area === "operator" ||
    area === "executor" ||
    area === "public" ||
    area === "unknown"
  ) {
    let json: unknown;
    try {
      json = JSON.parse(a.text);
    } catch {
      throw new Error(`${a.status} answer on a JSON route is not JSON (${a.type}): ${a.text.slice(0, 200)}`);
    }
    const env = ErrorEnvelope.safeParse(json);
    if (!env.success)
      throw new Error(`${a.status} answer is not the error envelope: ${a.text.slice(0, 200)}`);
    expect(env.data.error.code).toMatch(/^[a-z0-9_]+$/);
    expect(env.data.error.message.length).toBeGreaterThan(0);
    return;
  }
  // The dashboard and action links answer people: a page or a sentence, never a stack trace.
  expect(a.type).toMatch(/^text\/(html|plain)/);
  expect(a.text.trim().length).toBeGreaterThan(0);
  expect(a.text).not.toMatch(/\bat [\w.<>]+ \(|\w*Error: |\[object Object\]/);
}

/** How many cases a property runs: its share of `fuzzRuns` when set, else the quick default. */
export function runs(quick: number, share: number): number {
  const total = inject("fuzzRuns");
  return total && total > 0 ? Math.max(quick, Math.ceil(total * share)) : quick;
}

/** Counts answers by status for the long run's summary (read back from the test's meta). */
export class Tally {
  readonly statuses: Record<string, number> = {};
  cases = 0;
  add(status: number): void {
    this.cases++;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }
}
