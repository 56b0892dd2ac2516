// Signed executor requests through the Worker: tampering, clock skew, replay, key rotation, and
// the separation of operator and executor credentials.

import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { contentDigest, signatureBase, signRequest } from "@mtor/schema/signing";
import { beforeAll, describe, expect, it } from "vitest";
import production from "../src/index";
import {
  api,
  BASE,
  claimBody,
  dispatchSpec,
  executorClient,
  nowMs,
  setClock,
  startClock,
  TOKENS,
} from "./helpers";

async function specStatus(id: string): Promise<string> {
  return ((await (await api(`/v1/specs/${id}`)).json()) as { status: string }).status;
}

const PATH = "/v1/executor/claim";
const BODY = JSON.stringify(claimBody("ex-sign", { repos: ["r-sign"], providers: ["p-sign"] }));
const KEYS = { k1: "test-secret-one", k2: "test-secret-two" } as const;

interface Signed {
  method?: string;
  url?: string;
  body?: string;
  keyId?: keyof typeof KEYS;
  created?: number;
  nonce?: string;
}

async function signed(
  s: Signed = {},
): Promise<{ url: string; headers: Record<string, string>; body: string }> {
  const url = s.url ?? `${BASE}${PATH}`;
  const body = s.body ?? BODY;
  const keyId = s.keyId ?? "k1";
  const headers = await signRequest({
    method: s.method ?? "POST",
    url,
    body,
    keyId,
    secret: KEYS[keyId],
    created: s.created ?? Math.floor(nowMs() / 1000),
    nonce: s.nonce,
  });
  return { url, headers: { ...headers, "content-type": "application/json" }, body };
}

async function send(r: { url: string; headers: Record<string, string>; body: string }): Promise<Response> {
  return SELF.fetch(r.url, { method: "POST", headers: r.headers, body: r.body });
}

async function code(res: Response): Promise<[number, string]> {
  const body = (await res.json()) as { error?: { code: string } };
  return [res.status, body.error?.code ?? "ok"];
}

beforeAll(async () => {
  await startClock();
});

it("builds the signature base of a fixed request byte for byte (inside workerd)", async () => {
  const body = '{"free":1}';
  const digest = await contentDigest(body);
  expect(digest).toBe("sha-256=:yOeOgJutbGgAnHFfp9aRRgrsrIU05GweQBTRY4k7m6E=:");
  const base = signatureBase("POST", "http://127.0.0.1:8787/v1/executor/claim", digest, {
    created: 1767225600,
    nonce: "abcdefghijklmnopqrstuv",
    keyid: "k1",
  });
  const expected = [
    '"@method": POST',
    '"@target-uri": http://127.0.0.1:8787/v1/executor/claim',
    '"content-digest": sha-256=:yOeOgJutbGgAnHFfp9aRRgrsrIU05GweQBTRY4k7m6E=:',
    '"@signature-params": ("@method" "@target-uri" "content-digest");created=1767225600;nonce="abcdefghijklmnopqrstuv";keyid="k1";alg="hmac-sha256"',
  ].join("\n");
  expect([...new TextEncoder().encode(base)]).toEqual([...new TextEncoder().encode(expected)]);
});

describe("signed executor requests", () => {
  it("accepts a correctly signed claim", async () => {
    expect(await code(await send(await signed()))).toEqual([200, "ok"]);
  });

  it("refuses a one-byte change to the method", async () => {
    const r = await signed({ method: "POSU" });
    expect(await code(await send(r))).toEqual([401, "bad_signature"]);
  });

  it("refuses a one-byte change to the target URI", async () => {
    // Routes are case-sensitive, so the signature covers the changed URI and the request goes to the real one.
    const s = await signed({ url: `${BASE}/v1/executor/claiM` });
    expect(await code(await send({ ...s, url: `${BASE}${PATH}` }))).toEqual([401, "bad_signature"]);
  });

  it("refuses a one-byte change to the body", async () => {
    const r = await signed();
    r.body = r.body.replace('"free":1', '"free":2');
    expect(await code(await send(r))).toEqual([401, "digest_mismatch"]);
  });

  it.each([
    ["created", (v: string) => v.replace(/created=(\d+)/, (_m, d) => `created=${Number(d) + 1}`)],
    ["nonce", (v: string) => v.replace(/nonce="(.)/, (_m, c) => `nonce="${c === "A" ? "B" : "A"}`)],
    ["keyid", (v: string) => v.replace('keyid="k1"', 'keyid="k2"')],
  ])("refuses a one-byte change to %s", async (_name, change) => {
    const r = await signed();
    r.headers["signature-input"] = change(r.headers["signature-input"]);
    expect(await code(await send(r))).toEqual([401, "bad_signature"]);
  });

  it("refuses created 301 s in the past or future, accepts 299 s", async () => {
    const now = Math.floor(nowMs() / 1000);
    expect(await code(await send(await signed({ created: now - 301 })))).toEqual([401, "signature_expired"]);
    expect(await code(await send(await signed({ created: now + 301 })))).toEqual([401, "signature_expired"]);
    expect(await code(await send(await signed({ created: now - 299 })))).toEqual([200, "ok"]);
    expect(await code(await send(await signed({ created: now + 299 })))).toEqual([200, "ok"]);
  });

  it("refuses a replayed nonce", async () => {
    const r = await signed();
    expect(await code(await send(r))).toEqual([200, "ok"]);
    expect(await code(await send(r))).toEqual([401, "nonce_replayed"]);
  });

  it("accepts both of two live keys", async () => {
    expect(await code(await send(await signed({ keyId: "k1" })))).toEqual([200, "ok"]);
    const other = JSON.stringify(claimBody("ex-sign-k2", { repos: ["r-sign"], providers: ["p-sign"] }));
    expect(await code(await send(await signed({ keyId: "k2", body: other })))).toEqual([200, "ok"]);
  });

  it("binds an executor id to the key that registered it: another key gets 403 on claim, heartbeat and verdict", async () => {
    const lane = { repos: ["r-bound"], providers: ["p-bound"] };
    const own = executorClient({ keyId: "k1", secret: KEYS.k1 });
    const thief = executorClient({ keyId: "k2", secret: KEYS.k2 });
    await own.claim(claimBody("ex-bound", lane));
    const id = await dispatchSpec("bound", { repo: "r-bound", provider: "p-bound" });

    const stolen = await thief.claim(claimBody("ex-bound", lane));
    expect(stolen.ok ? "ok" : [stolen.status, stolen.error.code]).toEqual([403, "forbidden"]);
    expect(await specStatus(id)).toBe("queued");

    const claimed = await own.claim(claimBody("ex-bound", lane));
    if (!claimed.ok) throw new Error(claimed.error.message);
    const run = claimed.data.runs[0];
    expect(run.spec_id).toBe(id);
    const token = run.lease.token;
    const beat = await thief.heartbeat(run.run_id, {
      token,
      phase: "harness",
      load: claimBody("x").executor.load,
    });
    expect(beat.ok ? "ok" : [beat.status, beat.error.code]).toEqual([403, "forbidden"]);
    const report = await thief.verdict(run.run_id, { token, outcome: "passed", flags: [], duration_ms: 1 });
    expect(report.ok ? "ok" : [report.status, report.error.code]).toEqual([403, "forbidden"]);
    expect(await specStatus(id)).toBe("leased");

    const mine = await own.verdict(run.run_id, { token, outcome: "passed", flags: [], duration_ms: 1 });
    expect(mine.ok && mine.data.status).toBe("awaiting_review");
  });

  it("refuses missing headers and an unknown key", async () => {
    const res = await SELF.fetch(`${BASE}${PATH}`, {
      method: "POST",
      body: BODY,
      headers: { "content-type": "application/json" },
    });
    expect(await code(res)).toEqual([401, "signature_missing"]);
    const r = await signed();
    r.headers["signature-input"] = r.headers["signature-input"].replace('keyid="k1"', 'keyid="k9"');
    expect(await code(await send(r))).toEqual([401, "unknown_key"]);
  });

  it("refuses an operator token on an executor route", async () => {
    const res = await SELF.fetch(`${BASE}${PATH}`, {
      method: "POST",
      body: BODY,
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKENS.admin}` },
    });
    expect(await code(res)).toEqual([401, "signature_missing"]);
  });

  it("refuses a signature on an operator route", async () => {
    const url = `${BASE}/v1/specs`;
    const headers = await signRequest({
      method: "GET",
      url,
      body: "",
      keyId: "k1",
      secret: KEYS.k1,
      created: Math.floor(nowMs() / 1000),
    });
    const res = await SELF.fetch(url, { headers });
    expect(await code(res)).toEqual([401, "unauthorized"]);
  });
});

describe("where a signature's time is checked", () => {
  it("the production Worker checks `created` against real time itself; the test build leaves it to the Fleet's clock", async () => {
    // The Fleet's clock sits 301 s behind real time, and the signature was made then: the test
    // build's Fleet finds it fresh, the production Worker finds it expired before any Fleet call.
    const then = Math.floor(Date.now() / 1000) - 301;
    await setClock(then * 1000);
    try {
      const ctx = createExecutionContext();
      const r = await signed({ created: then });
      const res = await production.fetch(
        new Request(r.url, { method: "POST", headers: r.headers, body: r.body }),
        env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(await code(res)).toEqual([401, "signature_expired"]);
      expect(await code(await send(await signed({ created: then })))).toEqual([200, "ok"]);
    } finally {
      await startClock();
    }
  });
});
