// Input fuzzing of every route (issue 9): hostile bodies, content types, headers, credentials,
// signatures, paths and methods. Whatever arrives: never a 5xx, every error in the envelope (or a
// clear page on the dashboard and action links), no secret echoed, and a refused request leaves
// the Fleet's state exactly as it was. `npm run fuzz` runs the same properties with ≥ 2 000 cases.
import { signRequest } from "@mtor/schema/signing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newActionToken, signActionToken } from "../src/actions/links";
import { csrfFor } from "../src/dashboard/session";
import {
  anyJson,
  anyText,
  badAuthorization,
  body,
  contentType,
  extraHeaders,
  headerValue,
  method,
  param,
  randomPath,
} from "./fuzz/arbitraries";
import { type Answer, BASE, expectWellFormed, type FuzzRequest, runs, send, Tally } from "./fuzz/http";
import {
  DASHBOARD_ROUTES,
  EXECUTOR_ROUTES,
  encode,
  fill,
  OPERATOR_ROUTES,
  type Params,
  ROLE_RANK,
  type Route,
  reachesRoute,
} from "./fuzz/routes";
import { fleetState, stateDiff } from "./fuzz/state";
import { api, claimBody, dispatchSpec, executorClient, nowMs, startClock, TOKENS } from "./helpers";

const KEYS = { k1: "test-secret-one", k2: "test-secret-two" } as const;

/** Real ids the fuzzed paths point at half the time, so requests reach real rows. */
const fixture: Params & { lease: string } = {
  spec: "",
  provider: "fz-prov",
  gate: "tests_extra",
  executor: "fz-ex",
  webhook: "",
  delivery: "msg_fuzz0000000000000000",
  run: "",
  token: "",
  lease: "",
};

beforeAll(async () => {
  await startClock();
  fixture.spec = await dispatchSpec("fuzz fixture queued", { repo: "fz-other", provider: "fz-prov" });
  const running = await dispatchSpec("fuzz fixture leased", { repo: "fz-repo", provider: "fz-prov" });
  const claimed = await executorClient().claim(
    claimBody("fz-ex", { providers: ["fz-prov"], repos: ["fz-repo"] }),
  );
  if (!claimed.ok || claimed.data.runs[0]?.spec_id !== running)
    throw new Error(`fixture claim failed: ${JSON.stringify(claimed)}`);
  fixture.run = claimed.data.runs[0].run_id;
  fixture.lease = claimed.data.runs[0].lease.token;
  const wh = await api("/v1/webhooks", {
    body: { url: "https://hooks.example.com/fuzz", events: ["spec.verdict"] },
  });
  fixture.webhook = ((await wh.json()) as { id: string }).id;
  fixture.token = await newActionToken("test-action-secret", fixture.spec, fixture.run, "approve", nowMs());
});

afterAll(async () => {
  // Accepted fuzz requests may have frozen the fleet; leave it as other tests expect.
  await api("/v1/thaw", { method: "POST" });
});

const paramsArb = fc.record({
  spec: param(fixture.spec || "x"),
  provider: param("fz-prov"),
  gate: param("tests_extra"),
  executor: param("fz-ex"),
  webhook: param("wh_x"),
  delivery: param("msg_fuzz0000000000000000"),
  run: param("r"),
  token: param("t"),
});

/** Path parameters drawn per case; the real fixture values are read at run time. */
const liveParams = fc
  .tuple(paramsArb, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }))
  .map(([random, useReal]) => {
    const out: Params = {};
    Object.keys(random).forEach((k, i) => {
      out[k] = useReal[i] ? fixture[k] : (random as Params)[k];
    });
    return out;
  });

/** Sends a request and checks the answer; a refused request must leave the state unchanged. */
async function probe(
  tally: Tally,
  r: FuzzRequest,
  area: Parameters<typeof expectWellFormed>[1],
  mustRefuse = false,
  refusedWhen: (a: Answer) => boolean = (a) => a.status >= 400,
): Promise<Answer> {
  const before = await fleetState();
  const a = await send(r);
  tally.add(a.status);
  try {
    expectWellFormed(a, area, r.method);
    if (mustRefuse && a.status < 300) throw new Error(`accepted with ${a.status}`);
    if (mustRefuse || refusedWhen(a)) {
      const after = await fleetState();
      if (after !== before)
        throw new Error(
          `a refused request (${a.status}) changed the Fleet's state:\n${stateDiff(before, after)}`,
        );
    }
  } catch (err) {
    const shown = typeof r.body === "string" ? r.body.slice(0, 200) : r.body;
    throw new Error(
      `${r.method} ${r.path.slice(0, 200)} → ${a.status} ${a.text.slice(0, 200)}\nheaders ${JSON.stringify(r.headers).slice(0, 300)}\nbody ${String(shown)}\n${(err as Error).message}`,
    );
  }
  return a;
}

function withType(headers: Record<string, string>, type: string): Record<string, string> {
  return type ? { ...headers, "content-type": type } : headers;
}

/** Counterexamples can hold 1 MiB bodies: report them cut short. */
function reporter<T>(out: fc.RunDetails<T>): void {
  if (!out.failed) return;
  const message = fc.defaultReportMessage(out) ?? "property failed";
  throw new Error(message.length > 6000 ? `${message.slice(0, 6000)}… (cut)` : message, {
    cause: out.errorInstance,
  });
}

/** Each property's test timeout: generous, since a loaded CI box can be ten times slower. */
const timeout = (n: number) => 120_000 + n * 1_500;
/**
 * fast-check stops itself before the test's timeout: a property still sending requests after its
 * test timed out would change the state under the next property's feet. The cases it did run are
 * counted (`npm run fuzz` fails when the total falls short of 2 000).
 */
const opts = <T>(numRuns: number): fc.Parameters<T> => ({
  numRuns,
  endOnFailure: true,
  interruptAfterTimeLimit: timeout(numRuns) - 30_000,
  markInterruptAsFailure: false,
  reporter,
});

describe("fuzz: operator API", () => {
  const wrongPrincipal = (route: Route) => {
    const lower = (["read", "dispatch"] as const).filter(
      (role) => ROLE_RANK[role] < ROLE_RANK[route.role ?? "read"],
    );
    return fc.oneof(
      badAuthorization.map((v): Record<string, string> => (v === undefined ? {} : { authorization: v })),
      // A role below the route's, where there is one.
      lower.length
        ? fc.constantFrom(...lower).map((role) => ({ authorization: `Bearer ${TOKENS[role]}` }))
        : fc.constant({}),
      // An executor's signature instead of a token.
      fc.constant({
        "signature-input":
          'mtor=("@method" "@target-uri" "content-digest");created=1;nonce="aaaaaaaaaaaaaaaa";keyid="k1";alg="hmac-sha256"',
        signature: "mtor=:AAAA:",
        "content-digest": "sha-256=:AAAA:",
      }),
    );
  };

  const n1 = runs(60, 0.15);
  it(`refuses every route to a wrong principal, whatever the input (${n1} cases)`, {
    timeout: timeout(n1),
  }, async ({ task }) => {
    const tally = new Tally();
    const routeArb = fc.constantFrom(...OPERATOR_ROUTES).chain((route) =>
      fc.record({
        route: fc.constant(route),
        auth: wrongPrincipal(route),
        params: liveParams,
        body,
        type: contentType,
        extra: extraHeaders,
      }),
    );
    await fc.assert(
      fc.asyncProperty(routeArb, async ({ route, auth, params, body, type, extra }) => {
        const a = await probe(
          tally,
          {
            method: route.method,
            path: fill(route.path, params),
            headers: withType({ ...extra, ...auth }, type),
            body,
          },
          "operator",
          true,
        );
        // The canonical path reaches the route, so auth speaks first: 401 or 403, nothing else —
        // but a body over the limit is refused (413) before anyone reads it, whoever sent it.
        // A GET goes out with no body at all (see toRequest), so only other methods carry one.
        const sent = route.method === "GET" ? undefined : body;
        const size = typeof sent === "string" ? new TextEncoder().encode(sent).length : (sent?.length ?? 0);
        if (reachesRoute(route, params)) expect(size > 256 * 1024 ? [413] : [401, 403]).toContain(a.status);
      }),
      opts(n1),
    );
    task.meta.fuzz = { cases: tally.cases, statuses: tally.statuses };
  });

  const n2 = runs(80, 0.2);
  it(`answers malformed input from the right principal with a 4xx in the envelope (${n2} cases)`, {
    timeout: timeout(n2),
  }, async ({ task }) => {
    const tally = new Tally();
    const arb = fc.record({
      route: fc.constantFrom(...OPERATOR_ROUTES),
      params: liveParams,
      body: fc.oneof(
        body,
        anyJson.map((v) => JSON.stringify(v)),
      ),
      type: contentType,
      extra: extraHeaders,
      query: fc.option(
        fc.dictionary(
          fc.constantFrom(
            "count",
            "status",
            "cursor",
            "since",
            "until",
            "format",
            "repo",
            "title",
            "provider",
          ),
          anyText,
          { maxKeys: 3 },
        ),
      ),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ route, params, body, type, extra, query }) => {
        const qs = query ? `?${new URLSearchParams(query).toString()}` : "";
        await probe(
          tally,
          {
            method: route.method,
            path: fill(route.path, params) + qs,
            headers: withType({ ...extra, authorization: `Bearer ${TOKENS.admin}` }, type),
            body,
          },
          "operator",
        );
      }),
      opts(n2),
    );
    task.meta.fuzz = { cases: tally.cases, statuses: tally.statuses };
  });
});

describe("fuzz: executor API", () => {
  const sigParts = fc.record({
    keyid: fc.oneof(fc.constantFrom("k1", "k2", "k9", "", 'k1"', "k1,k2"), headerValue),
    secret: fc.oneof(
      fc.constantFrom("test-secret-one", "wrong-secret"),
      fc.string({ minLength: 1, maxLength: 40 }),
    ),
    created: fc.oneof(fc.constant(0), fc.integer({ min: -700, max: 700 }), fc.constantFrom(-1e12, 1e12)),
    nonce: fc.oneof(fc.constantFrom("short", "a".repeat(16), "x".repeat(5000), '"quoted"'), headerValue),
    signedUrl: fc.constantFrom("same", "other"),
    signedBody: fc.constantFrom("same", "other"),
    tamper: fc.constantFrom(
      "none",
      "input",
      "signature",
      "digest",
      "drop-input",
      "drop-signature",
      "drop-digest",
      "random-all",
      "label",
    ),
    junk: headerValue,
  });

  const n3 = runs(40, 0.12);
  it(`refuses missing, malformed, forged, stale and tampered signatures with 401 (${n3} cases)`, {
    timeout: timeout(n3),
  }, async ({ task }) => {
    const tally = new Tally();
    const arb = fc.record({
      route: fc.constantFrom(...EXECUTOR_ROUTES),
      params: liveParams,
      body,
      type: contentType,
      sig: sigParts,
      auth: badAuthorization,
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ route, params, body: b, type, sig, auth }) => {
        const path = fill(route.path, params);
        const text = b === undefined ? "" : b;
        const headers: Record<string, string> = await signRequest({
          method: "POST",
          url: sig.signedUrl === "same" ? `${BASE}${path}` : `${BASE}/v1/executor/claim?x=1`,
          body: sig.signedBody === "same" ? text : `${typeof text === "string" ? text : ""}!`,
          keyId: sig.keyid,
          secret: sig.secret,
          created: Math.floor(nowMs() / 1000) + sig.created,
          nonce: sig.nonce,
        });
        const forged = sig.secret !== KEYS.k1 || sig.keyid !== "k1";
        const honest =
          !forged &&
          sig.signedUrl === "same" &&
          sig.signedBody === "same" &&
          Math.abs(sig.created) <= 300 &&
          sig.nonce.length >= 16 &&
          !sig.nonce.includes('"');
        if (sig.tamper === "input")
          headers["signature-input"] =
            headers["signature-input"].replace(/created=\d+/, "created=1") + sig.junk;
        if (sig.tamper === "signature") headers.signature = `mtor=:${sig.junk}:`;
        if (sig.tamper === "digest") headers["content-digest"] = `sha-256=:${sig.junk}:`;
        if (sig.tamper === "drop-input") delete headers["signature-input"];
        if (sig.tamper === "drop-signature") delete headers.signature;
        if (sig.tamper === "drop-digest") delete headers["content-digest"];
        if (sig.tamper === "label")
          headers["signature-input"] = headers["signature-input"].replace(/^mtor=/, "sig1=");
        if (sig.tamper === "random-all") {
          headers["signature-input"] = sig.junk;
          headers.signature = sig.junk;
          headers["content-digest"] = sig.junk;
        }
        if (auth) headers.authorization = auth;
        // Only an honest signature over an untampered request may get past the check.
        const mustRefuse = !(honest && sig.tamper === "none");
        const a = await probe(
          tally,
          { method: "POST", path, headers: withType(headers, type), body: b },
          "executor",
          mustRefuse,
        );
        // The body is read (under the size limit) before the signature over it is checked.
        if (mustRefuse && reachesRoute(route, params)) expect([401, 413]).toContain(a.status);
      }),
      opts(n3),
    );
    task.meta.fuzz = { cases: tally.cases, statuses: tally.statuses };
  });

  /** Valid bodies of each executor message, then up to three fields replaced by anything. */
  const validBody = (route: Route): Record<string, unknown> => {
    if (route.path.endsWith("claim"))
      return { ...claimBody("fz-ex-2", { providers: ["fz-none"], repos: ["fz-none"] }) };
    if (route.path.endsWith("heartbeat"))
      return { token: fixture.lease, phase: "harness", load: { cpu: 0.1, mem_free: 0.5 } };
    return {
      token: "stale-token",
      outcome: "failed",
      flags: [],
      failure: { kind: "harness", message: "x" },
      duration_ms: 5,
    };
  };
  const FIELD_PATHS = [
    "token",
    "phase",
    "load",
    "load.cpu",
    "load.mem_free",
    "progress",
    "outcome",
    "flags",
    "failure",
    "failure.kind",
    "branch",
    "head_sha",
    "commits",
    "diffstat",
    "usage",
    "duration_ms",
    "log_tail",
    "executor",
    "executor.id",
    "executor.load",
    "executor.capacity",
    "executor.providers",
    "executor.repos",
    "executor.host",
    "free",
    "extra",
  ];
  const mutations = fc.array(
    fc.tuple(fc.constantFrom(...FIELD_PATHS), fc.oneof(anyJson, fc.constant(undefined))),
    { maxLength: 3 },
  );

  function mutate(value: Record<string, unknown>, changes: [string, unknown][]): Record<string, unknown> {
    const out = structuredClone(value);
    for (const [path, v] of changes) {
      const keys = path.split(".");
      let node: Record<string, unknown> = out;
      for (const k of keys.slice(0, -1)) {
        if (!node[k] || typeof node[k] !== "object") node[k] = {};
        node = node[k] as Record<string, unknown>;
      }
      if (v === undefined) delete node[keys[keys.length - 1]];
      else node[keys[keys.length - 1]] = v;
    }
    // A valid long poll would hold the test for up to 25 s; its range is checked in executor-api.test.ts.
    if (typeof out.wait_s === "number" && out.wait_s > 0 && out.wait_s <= 25) out.wait_s = 0;
    return out;
  }

  const n4 = runs(40, 0.12);
  it(`answers correctly signed but malformed messages with a 4xx (${n4} cases)`, {
    timeout: timeout(n4),
  }, async ({ task }) => {
    const tally = new Tally();
    const arb = fc.record({
      route: fc.constantFrom(...EXECUTOR_ROUTES),
      params: liveParams,
      changes: mutations,
      raw: fc.option(
        fc.oneof(
          anyText,
          body.filter((b) => typeof b === "string"),
        ),
      ),
      type: fc.oneof(fc.constant("application/json"), contentType),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ route, params, changes, raw, type }) => {
        const path = fill(route.path, params);
        const text = raw ?? JSON.stringify(mutate(validBody(route), changes));
        const headers = await signRequest({
          method: "POST",
          url: `${BASE}${path}`,
          body: text,
          keyId: "k2",
          secret: KEYS.k2,
          created: Math.floor(nowMs() / 1000),
        });
        await probe(
          tally,
          { method: "POST", path, headers: withType(headers, type), body: text },
          "executor",
        );
      }),
      opts(n4),
    );
    task.meta.fuzz = { cases: tally.cases, statuses: tally.statuses };
  });
});

describe("fuzz: dashboard", () => {
  const n5 = runs(60, 0.15);
  it(`never acts without a session, this origin and the form token, and never fails (${n5} cases)`, {
    timeout: timeout(n5),
  }, async ({ task }) => {
    const tally = new Tally();
    const csrfs = {
      admin: await csrfFor(TOKENS.admin),
      dispatch: await csrfFor(TOKENS.dispatch),
      read: await csrfFor(TOKENS.read),
    };
    const arb = fc.record({
      route: fc.constantFrom(...DASHBOARD_ROUTES),
      params: liveParams,
      session: fc.oneof(
        fc.constantFrom("none", "admin", "dispatch", "read"),
        headerValue.map((v) => `forged:${v}`),
      ),
      origin: fc.constantFrom("same", "cross", "null", "none", "fetch-same", "fetch-cross", "subdomain"),
      csrf: fc.constantFrom("valid", "other-role", "missing", "random", "empty"),
      junk: headerValue,
      fields: fc.dictionary(
        fc.oneof(
          fc.constantFrom("spec", "grade", "note", "retry", "slots", "action", "token", "next", "filter"),
          fc.string({ maxLength: 10 }),
        ),
        anyText,
        { maxKeys: 4 },
      ),
      type: fc.oneof(
        { arbitrary: fc.constant("application/x-www-form-urlencoded"), weight: 4 },
        { arbitrary: contentType, weight: 1 },
      ),
      rawBody: fc.option(body, { freq: 4 }),
      query: fc.option(
        fc.dictionary(fc.constantFrom("next", "filter", "done", "since"), anyText, { maxKeys: 2 }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const headers: Record<string, string> = {};
        const sessionToken =
          c.session === "none"
            ? undefined
            : c.session.startsWith("forged:")
              ? c.session.slice(7)
              : TOKENS[c.session as keyof typeof TOKENS];
        if (sessionToken !== undefined) headers.cookie = `mtor_session=${sessionToken}`;
        if (c.origin === "same") headers.origin = BASE;
        if (c.origin === "cross") headers.origin = "https://evil.example";
        if (c.origin === "null") headers.origin = "null";
        if (c.origin === "subdomain") headers.origin = "http://evil.mtor.test";
        if (c.origin === "fetch-same") headers["sec-fetch-site"] = "same-origin";
        if (c.origin === "fetch-cross") headers["sec-fetch-site"] = "cross-site";
        const form: Record<string, string> = { ...c.fields };
        const role = c.session in csrfs ? (c.session as keyof typeof csrfs) : undefined;
        if (c.csrf === "valid" && role) form._csrf = csrfs[role];
        if (c.csrf === "other-role") form._csrf = csrfs[role === "admin" ? "read" : "admin"];
        if (c.csrf === "random") form._csrf = c.junk;
        if (c.csrf === "empty") form._csrf = "";
        const b = c.rawBody ?? new URLSearchParams(form).toString();
        const qs = c.query ? `?${new URLSearchParams(c.query).toString()}` : "";
        const r: FuzzRequest = {
          method: c.route.method,
          path: fill(c.route.path, c.params) + qs,
          headers: withType(headers, c.type),
          body: b,
        };
        const mayAct =
          c.route.method === "POST" &&
          role !== undefined &&
          c.csrf === "valid" &&
          c.rawBody === null &&
          (c.origin === "same" || c.origin === "fetch-same");
        // A GET never changes the fleet; a POST without session, origin and form token neither.
        await probe(tally, r, "dashboard", false, (a) => !mayAct || a.status >= 400);
      }),
      opts(n5),
    );
    task.meta.fuzz = { cases: tally.cases, statuses: tally.statuses };
  });
});

describe("fuzz: phone action links", () => {
  const n6 = runs(30, 0.08);
  it(`refuses every token it did not sign with a clear page and changes nothing (${n6} cases)`, {
    timeout: timeout(n6),
  }, async ({ task }) => {
    const tally = new Tally();
    const arb = fc.record({
      method: fc.constantFrom("GET", "POST"),
      kind: fc.constantFrom("random", "flip", "other-secret", "expired", "real-queued", "parts"),
      text: anyText,
      at: fc.nat({ max: 200 }),
      action: fc.constantFrom("approve", "decline", "retry", "delete", "APPROVE"),
      body: fc.option(body),
      type: contentType,
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        let token = c.text;
        const now = nowMs();
        if (c.kind === "flip") {
          const i = c.at % fixture.token.length;
          const ch = fixture.token[i] === "a" ? "b" : "a";
          token = fixture.token.slice(0, i) + ch + fixture.token.slice(i + 1);
        }
        if (c.kind === "other-secret") {
          token = await signActionToken("not-the-action-secret", {
            specId: fixture.spec,
            runId: fixture.run,
            action: "approve",
            expiresAt: now + 3600e3,
            nonce: "n0nce0000000000000000",
          });
        }
        if (c.kind === "expired") {
          token = await signActionToken("test-action-secret", {
            specId: fixture.spec,
            runId: fixture.run,
            action: "approve",
            expiresAt: now - 1000,
            nonce: "n0nce0000000000000001",
          });
        }
        if (c.kind === "real-queued") token = fixture.token;
        if (c.kind === "parts")
          token = [fixture.spec, c.action, "zzzzzz", "n0nce0000000000000002", fixture.run, c.text].join(".");
        const a = await probe(
          tally,
          {
            method: c.method,
            path: `/actions/${encode(token)}`,
            headers: withType({}, c.type),
            body: c.body ?? undefined,
          },
          "action",
          c.method === "POST",
        );
        if (a.status < 400 && a.status !== 200) throw new Error(`unexpected ${a.status}`);
        // The real link for a queued spec cannot approve it (409); every other token is refused.
        if (c.kind !== "real-queued" && c.kind !== "random" && token !== fixture.token)
          expect(a.status).toBeGreaterThanOrEqual(400);
        if (a.status >= 400 || c.method === "POST")
          expect(a.type).toMatch(/text\/(html|plain)|application\/json/);
      }),
      opts(n6),
    );
    task.meta.fuzz = { cases: tally.cases, statuses: tally.statuses };
  });
});

describe("fuzz: any method, any path", () => {
  const n7 = runs(40, 0.1);
  it(`answers unknown methods and paths with an envelope or a page, never a 5xx (${n7} cases)`, {
    timeout: timeout(n7),
  }, async ({ task }) => {
    const tally = new Tally();
    const arb = fc.record({
      method,
      path: fc.oneof(
        randomPath,
        fc.constantFrom(...OPERATOR_ROUTES, ...DASHBOARD_ROUTES).map((r) => fill(r.path, {})),
      ),
      auth: fc.oneof(badAuthorization, fc.constant(`Bearer ${TOKENS.read}`)),
      body,
      type: contentType,
      extra: extraHeaders,
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const headers = withType({ ...c.extra }, c.type);
        if (c.auth) headers.authorization = c.auth;
        let req: FuzzRequest = { method: c.method, path: c.path, headers, body: c.body };
        try {
          new Request(`${BASE}${c.path}`, { method: c.method });
        } catch {
          // Methods fetch itself forbids (CONNECT, TRACE, TRACK) never reach a Worker.
          req = { ...req, method: "GET" };
        }
        const area = /^\/(v1|healthz)(\/|$)/.test(c.path)
          ? "unknown"
          : c.path.startsWith("/actions/")
            ? "action"
            : "dashboard";
        // At most the read token and no dashboard session: nothing may change, whatever the answer.
        await probe(tally, req, area, false, () => true);
      }),
      opts(n7),
    );
    task.meta.fuzz = { cases: tally.cases, statuses: tally.statuses };
  });

  const n8 = runs(20, 0.04);
  it(`GET /healthz answers 200 whatever the headers (${n8} cases)`, { timeout: timeout(n8) }, async ({
    task,
  }) => {
    const tally = new Tally();
    await fc.assert(
      fc.asyncProperty(
        fc.record({ extra: extraHeaders, auth: badAuthorization, query: fc.string({ maxLength: 50 }) }),
        async (c) => {
          const headers: Record<string, string> = { ...c.extra };
          if (c.auth) headers.authorization = c.auth;
          const a = await probe(
            tally,
            { method: "GET", path: `/healthz?${encodeURIComponent(c.query)}`, headers },
            "public",
            false,
            () => true,
          );
          expect(a.status).toBe(200);
          expect(JSON.parse(a.text)).toEqual({ ok: true });
        },
      ),
      opts(n8),
    );
    task.meta.fuzz = { cases: tally.cases, statuses: tally.statuses };
  });
});

describe("fuzz findings, kept as examples", () => {
  it("a broken multipart body to the login or a dashboard action is a 400, not a 500", async () => {
    const multipart = { "content-type": "multipart/form-data; boundary=x", origin: BASE };
    for (const [path, cookie] of [
      ["/login", undefined],
      ["/fleet/freeze", `mtor_session=${TOKENS.admin}`],
      ["/fleet/executors/fz-ex/undrain", "mtor_session=forged"],
    ] as const) {
      const headers: Record<string, string> = { ...multipart };
      if (cookie) headers.cookie = cookie;
      const before = await fleetState();
      const a = await send({ method: "POST", path, headers, body: "not multipart at all" });
      expect(a.status, path).toBe(400);
      expect(a.text).toContain("the form could not be read");
      expect(await fleetState()).toBe(before);
    }
  });
});
