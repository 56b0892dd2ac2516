// Security review (issue 9): every route refuses the wrong principal; no secret reaches a response,
// a log line, a webhook or the dashboard; the session cookie's flags; CSRF on every dashboard
// action; phone links bound to one spec and one action; SSRF on webhook URLs and redirects.

import { env, runInDurableObject, SELF } from "cloudflare:test";
import { signRequest } from "@mtor/schema/signing";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { newActionToken } from "../src/actions/links";
import { createApp } from "../src/app";
import { csrfFor } from "../src/dashboard/session";
import { send as sendWebhook } from "../src/webhooks/deliver";
import { checkWebhookUrl } from "../src/webhooks/guard";
import { BASE, SECRETS } from "./fuzz/http";
import {
  DASHBOARD_ACTIONS,
  DASHBOARD_PAGES,
  EXECUTOR_ROUTES,
  fill,
  OPERATOR_ROUTES,
  type Params,
  ROLE_RANK,
  ROUTES,
} from "./fuzz/routes";
import { fleetState, stateDiff } from "./fuzz/state";
import { api, claimBody, dispatchSpec, executorClient, nowMs, startClock, TOKENS } from "./helpers";
import {
  claimOne,
  createWebhook,
  deleteAllWebhooks,
  receiver,
  runAlarm,
  sendVerdict,
  specStatus,
} from "./webhooks-helpers";

const params: Params = {
  spec: "",
  provider: "sec-prov",
  gate: "tests_extra",
  executor: "sec-ex",
  webhook: "wh_sec000",
  delivery: "msg_sec000",
  run: "r-sec",
  token: "t",
};

let restoreFetch: (() => void) | undefined;
beforeAll(async () => {
  await startClock(Date.now());
  params.spec = await dispatchSpec("security fixture", { repo: "sec-repo", provider: "sec-prov" });
});
afterEach(async () => {
  restoreFetch?.();
  restoreFetch = undefined;
});

async function unchanged<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const before = await fleetState();
  const out = await fn();
  const after = await fleetState();
  if (before !== after) throw new Error(`${what} changed the Fleet's state:\n${stateDiff(before, after)}`);
  return out;
}

async function errorCode(res: Response): Promise<[number, string]> {
  const text = await res.text();
  return [res.status, (JSON.parse(text) as { error: { code: string } }).error.code];
}

const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  SELF.fetch(`${BASE}${path}`, { method, headers, body: method === "GET" ? undefined : (body ?? "{}") });

describe("the route table the security and fuzz tests walk", () => {
  it("is exactly the real router's routes, so a new route cannot escape it", () => {
    // A router path as a pattern (`:name` and `:name{a|b}` match one segment); a table path as
    // a concrete request path.
    const pattern = (path: string) =>
      new RegExp(
        `^${path.replace(/:[A-Za-z_]+(\{([^}]*)\})?/g, (_m, _b, alt) => (alt ? `(?:${alt})` : "[^/]+"))}$`,
      );
    const concrete = (path: string) => path.replace(/:[a-z]+/g, "p");
    // MCP speaks its own protocol.
    const own = /^\/mcp$/;
    const real = createApp()
      .routes.filter((r) => r.method !== "ALL" && !r.path.includes("*") && !own.test(r.path))
      .map((r) => ({
        method: r.method,
        path: r.path.replace(/(.)\/$/, "$1"),
        re: pattern(r.path.replace(/(.)\/$/, "$1")),
      }));
    const missing = real.filter(
      (r) => !ROUTES.some((t) => t.method === r.method && r.re.test(concrete(t.path))),
    );
    expect(
      missing.map((r) => `${r.method} ${r.path}`),
      "router routes missing from test/fuzz/routes.ts",
    ).toEqual([]);
    const stale = ROUTES.filter(
      (t) => !real.some((r) => r.method === t.method && r.re.test(concrete(t.path))),
    );
    expect(
      stale.map((t) => `${t.method} ${t.path}`),
      "table entries the router does not serve",
    ).toEqual([]);
  });
});

describe("the OpenAPI document", () => {
  it("describes every /v1 route the router serves, and no other", async () => {
    const doc = (await (await SELF.fetch(`${BASE}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const described = new Set(
      Object.entries(doc.paths)
        .filter(([path]) => path.startsWith("/v1/") && path !== "/v1/openapi.json")
        .flatMap(([path, ops]) =>
          Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{[^}]+\}/g, ":")}`),
        ),
    );
    const served = new Set(
      createApp()
        .routes.filter(
          (r) => r.method !== "ALL" && r.path.startsWith("/v1/") && r.path !== "/v1/openapi.json",
        )
        .map((r) => `${r.method} ${r.path.replace(/(.)\/$/, "$1").replace(/:[A-Za-z_]+(\{[^}]*\})?/g, ":")}`),
    );
    expect([...served].filter((r) => !described.has(r)).sort(), "served but not in the document").toEqual([]);
    expect([...described].filter((r) => !served.has(r)).sort(), "in the document but not served").toEqual([]);
  });
});

describe("the 256 KiB body limit holds before anything parses, on every route", () => {
  it("a body over 256 KiB gets 413 on every POST and PUT: API, executor, dashboard form, login and phone action", {
    timeout: 120_000,
  }, async () => {
    const big = `spec=${"x".repeat(300 * 1024)}`;
    await unchanged("oversized bodies", async () => {
      for (const route of ROUTES.filter((r) => r.method === "POST" || r.method === "PUT")) {
        const path = fill(route.path, params);
        const res = await SELF.fetch(`${BASE}${path}`, {
          method: route.method,
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            origin: BASE,
            cookie: `mtor_session=${TOKENS.admin}`,
            authorization: `Bearer ${TOKENS.admin}`,
          },
          body: big,
        });
        expect(res.status, `${route.method} ${route.path}`).toBe(413);
        await res.body?.cancel();
      }
    });
  });

  it("a streamed body with no Content-Length is cut off at the limit too", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 6) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await SELF.fetch(`${BASE}/actions/${params.spec}.approve.zz.n0nce00000000.r1.sig`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: stream,
    });
    expect(res.status).toBe(413);
  });
});

describe("every route refuses the wrong principal", () => {
  it("operator routes: no token, a wrong token, a lower role and an executor signature are refused", {
    timeout: 120_000,
  }, async () => {
    for (const route of OPERATOR_ROUTES) {
      const path = fill(route.path, params);
      const label = `${route.method} ${route.path}`;
      const signed = await signRequest({
        method: route.method,
        url: `${BASE}${path}`,
        body: "{}",
        keyId: "k1",
        secret: "test-secret-one",
        created: Math.floor(nowMs() / 1000),
      });
      await unchanged(label, async () => {
        expect(await errorCode(await req(route.method, path)), label).toEqual([401, "unauthorized"]);
        expect(
          await errorCode(await req(route.method, path, { authorization: "Bearer not-a-token" })),
          label,
        ).toEqual([401, "unauthorized"]);
        expect(
          await errorCode(
            await req(route.method, path, { authorization: `Basic ${btoa(`admin:${TOKENS.admin}`)}` }),
          ),
          label,
        ).toEqual([401, "unauthorized"]);
        expect(
          await errorCode(await req(route.method, path, { ...signed, "content-type": "application/json" })),
          label,
        ).toEqual([401, "unauthorized"]);
        for (const role of ["read", "dispatch"] as const) {
          if (ROLE_RANK[role] >= ROLE_RANK[route.role ?? "read"]) continue;
          const res = await req(route.method, path, {
            authorization: `Bearer ${TOKENS[role]}`,
            "content-type": "application/json",
          });
          expect(await errorCode(res), `${label} as ${role}`).toEqual([403, "forbidden"]);
        }
      });
    }
  });

  it("each role reaches exactly the routes of its rank (read GETs, dispatch the spec actions, admin the rest)", () => {
    const byRole = (role: string) =>
      OPERATOR_ROUTES.filter((r) => r.role === role).map((r) => `${r.method} ${r.path}`);
    expect(byRole("read").every((r) => r.startsWith("GET "))).toBe(true);
    expect(byRole("dispatch").sort()).toEqual(
      [
        "POST /v1/specs",
        ...["kill", "retry", "approve", "decline"].map((a) => `POST /v1/specs/:spec/${a}`),
      ].sort(),
    );
  });

  it("executor routes: an operator token (any role) and no signature are refused with 401", {
    timeout: 120_000,
  }, async () => {
    for (const route of EXECUTOR_ROUTES) {
      const path = fill(route.path, params);
      await unchanged(route.path, async () => {
        for (const token of [undefined, TOKENS.admin, TOKENS.dispatch, TOKENS.read]) {
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (token) headers.authorization = `Bearer ${token}`;
          expect(
            await errorCode(await req("POST", path, headers, JSON.stringify(claimBody("sec-ex")))),
            route.path,
          ).toEqual([401, "signature_missing"]);
        }
        // A key id with the other key's secret is a forgery.
        const forged = await signRequest({
          method: "POST",
          url: `${BASE}${path}`,
          body: "{}",
          keyId: "k1",
          secret: "test-secret-two",
          created: Math.floor(nowMs() / 1000),
        });
        expect(
          await errorCode(await req("POST", path, { ...forged, "content-type": "application/json" }, "{}")),
        ).toEqual([401, "bad_signature"]);
      });
    }
  });

  it("dashboard pages and actions: no cookie or a forged one goes to the login, and the forged cookie is cleared", {
    timeout: 120_000,
  }, async () => {
    for (const route of [...DASHBOARD_PAGES, ...DASHBOARD_ACTIONS]) {
      const path = fill(route.path, params);
      await unchanged(path, async () => {
        for (const cookie of [
          undefined,
          "mtor_session=forged-token",
          `mtor_session=${TOKENS.admin}x`,
          "mtor_session=",
        ]) {
          const headers: Record<string, string> = {
            origin: BASE,
            "content-type": "application/x-www-form-urlencoded",
          };
          if (cookie) headers.cookie = cookie;
          const body =
            route.method === "POST"
              ? `_csrf=${encodeURIComponent(await csrfFor(cookie?.split("=")[1] || "x"))}`
              : undefined;
          const res = await SELF.fetch(`${BASE}${path}`, {
            method: route.method,
            headers,
            body,
            redirect: "manual",
          });
          const label = `${route.method} ${path} with ${cookie ?? "no cookie"}`;
          if (path.startsWith("/fragments/")) {
            expect(res.status, label).toBe(401);
          } else {
            expect(res.status, label).toBe(303);
            expect(res.headers.get("location"), label).toMatch(/^\/login/);
          }
          if (
            cookie &&
            cookie !== "mtor_session=" &&
            route.method === "GET" &&
            !path.startsWith("/fragments/")
          ) {
            expect(res.headers.get("set-cookie") ?? "", label).toMatch(/mtor_session=;.*Max-Age=0/i);
          }
        }
      });
    }
  });

  it("a session whose token was rotated out of OPERATOR_TOKENS is refused", {
    timeout: 120_000,
  }, async () => {
    const app = createApp();
    const rotated = { ...env, OPERATOR_TOKENS: "admin:new-admin-token:admin" };
    const res = await app.request(
      `${BASE}/fleet`,
      { headers: { cookie: `mtor_session=${TOKENS.admin}` } },
      rotated,
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(/^\/login/);
    const api = await app.request(
      `${BASE}/v1/status`,
      { headers: { authorization: `Bearer ${TOKENS.admin}` } },
      rotated,
    );
    expect(api.status).toBe(401);
  });
});

describe("the session cookie", () => {
  it("is HttpOnly; Secure; SameSite=Strict; Path=/ and holds nothing but the session", {
    timeout: 120_000,
  }, async () => {
    const res = await SELF.fetch(`${BASE}/login`, {
      method: "POST",
      headers: { origin: BASE, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: TOKENS.read, next: "/" }).toString(),
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    const cookie = res.headers.get("set-cookie") ?? "";
    const attrs = cookie.split(";").map((a) => a.trim().toLowerCase());
    expect(attrs[0].startsWith("mtor_session=")).toBe(true);
    expect(attrs).toContain("httponly");
    expect(attrs).toContain("secure");
    expect(attrs).toContain("samesite=strict");
    expect(attrs).toContain("path=/");
    expect(attrs.some((a) => a.startsWith("domain="))).toBe(false);
    // Logging out clears it with the same flags.
    const out = await SELF.fetch(`${BASE}/logout`, {
      method: "POST",
      headers: { origin: BASE, cookie: cookie.split(";")[0] },
      redirect: "manual",
    });
    const cleared = (out.headers.get("set-cookie") ?? "").toLowerCase();
    expect(cleared).toMatch(/mtor_session=;/);
    expect(cleared).toMatch(/max-age=0/);
    expect(cleared).toMatch(/httponly/);
    expect(cleared).toMatch(/secure/);
    expect(cleared).toMatch(/samesite=strict/);
  });

  it("a wrong token at the login sets no cookie; a login from another origin is refused", {
    timeout: 120_000,
  }, async () => {
    const wrong = await SELF.fetch(`${BASE}/login`, {
      method: "POST",
      headers: { origin: BASE, "content-type": "application/x-www-form-urlencoded" },
      body: "token=nope",
      redirect: "manual",
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    const cross = await SELF.fetch(`${BASE}/login`, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: TOKENS.admin }).toString(),
      redirect: "manual",
    });
    expect(cross.status).toBe(403);
    expect(cross.headers.get("set-cookie")).toBeNull();
  });
});

describe("CSRF on every dashboard action", () => {
  const session = { cookie: `mtor_session=${TOKENS.admin}` };

  it("refuses a missing, wrong or foreign form token, a cross-site Origin and a request with neither Origin nor Sec-Fetch-Site", {
    timeout: 120_000,
  }, async () => {
    const good = await csrfFor(TOKENS.admin);
    const foreign = await csrfFor(TOKENS.dispatch);
    const cases: [string, Record<string, string>, string][] = [
      ["no form token", { origin: BASE }, "spec=x"],
      ["empty form token", { origin: BASE }, "_csrf="],
      ["wrong form token", { origin: BASE }, `_csrf=${good.slice(0, -2)}AA`],
      ["another session's form token", { origin: BASE }, `_csrf=${foreign}`],
      ["form token in the query only", { origin: BASE }, ""],
      ["cross-site Origin", { origin: "https://evil.example" }, `_csrf=${good}`],
      ["sibling origin", { origin: "https://mtor.test" }, `_csrf=${good}`],
      ["Origin: null", { origin: "null" }, `_csrf=${good}`],
      ["Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site" }, `_csrf=${good}`],
      ["Sec-Fetch-Site: same-site", { "sec-fetch-site": "same-site" }, `_csrf=${good}`],
      ["neither Origin nor Sec-Fetch-Site", {}, `_csrf=${good}`],
    ];
    for (const route of DASHBOARD_ACTIONS) {
      const path = fill(route.path, params);
      for (const [label, headers, body] of cases) {
        const query = label === "form token in the query only" ? `?_csrf=${good}` : "";
        await unchanged(`${path} with ${label}`, async () => {
          const res = await SELF.fetch(`${BASE}${path}${query}`, {
            method: "POST",
            headers: { ...session, ...headers, "content-type": "application/x-www-form-urlencoded" },
            body,
            redirect: "manual",
          });
          if (path === "/logout") {
            // Logging out needs only this origin; a cross-site logout is refused.
            if (label.includes("form token")) return;
          }
          expect(res.status, `${path}: ${label}`).toBe(403);
          expect(res.headers.get("set-cookie"), `${path}: ${label}`).toBeNull();
        });
      }
    }
  });

  it("with session, this origin and the form token the action goes through", {
    timeout: 120_000,
  }, async () => {
    const res = await SELF.fetch(`${BASE}/fleet/freeze`, {
      method: "POST",
      headers: { ...session, origin: BASE, "content-type": "application/x-www-form-urlencoded" },
      body: `_csrf=${encodeURIComponent(await csrfFor(TOKENS.admin))}`,
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/fleet?done=frozen");
    expect(((await (await api("/v1/status")).json()) as { frozen: boolean }).frozen).toBe(true);
    await api("/v1/thaw", { method: "POST" });
  });

  it("the form token of a read session cannot do what a read token cannot", {
    timeout: 120_000,
  }, async () => {
    await unchanged("a read session freezing", async () => {
      const res = await SELF.fetch(`${BASE}/fleet/freeze`, {
        method: "POST",
        headers: {
          cookie: `mtor_session=${TOKENS.read}`,
          origin: BASE,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: `_csrf=${encodeURIComponent(await csrfFor(TOKENS.read))}`,
        redirect: "manual",
      });
      expect(res.status).toBe(403);
    });
  });
});

describe("phone action links are bound to one spec and one action", () => {
  async function awaitingReview(tag: string) {
    const provider = `sec-${tag}-${crypto.randomUUID().slice(0, 6)}`;
    const id = await dispatchSpec(`link ${provider}`, { provider });
    const run = await claimOne(`ex-${provider}`, provider);
    await sendVerdict(run, { outcome: "passed", branch: `mtor/${id}-1` });
    return id;
  }
  const currentRun = async (id: string): Promise<string> => {
    const d = (await (await api(`/v1/specs/${id}`)).json()) as { runs: { id: string }[] };
    return d.runs.at(-1)?.id ?? "rnone";
  };
  const post = (token: string) =>
    SELF.fetch(`${BASE}/actions/${token}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });

  it("a link for spec A cannot act on B, and an approve link cannot decline or retry", {
    timeout: 120_000,
  }, async () => {
    const a = await awaitingReview("a");
    const b = await awaitingReview("b");
    const token = await newActionToken("test-action-secret", a, await currentRun(a), "approve", nowMs());
    const [, action, exp, nonce, run, sig] = token.split(".");
    await unchanged("forged links", async () => {
      for (const forged of [
        [b, action, exp, nonce, run, sig],
        [a, "decline", exp, nonce, run, sig],
        [a, "retry", exp, nonce, run, sig],
        [b, "decline", exp, nonce, run, sig],
        [a, action, exp, nonce, await currentRun(b), sig],
      ]) {
        const res = await post(forged.join("."));
        expect(res.status, forged.join(".")).toBe(403);
        expect(await res.text()).toContain("This link is not valid");
      }
    });
    expect(await specStatus(a)).toBe("awaiting_review");
    expect(await specStatus(b)).toBe("awaiting_review");
    // The real link does exactly its one thing to its one spec.
    expect((await post(token)).status).toBe(200);
    expect(await specStatus(a)).toBe("approved");
    expect(await specStatus(b)).toBe("awaiting_review");
    // A decline link for B signed alongside cannot be replayed once used.
    const declineB = await newActionToken("test-action-secret", b, await currentRun(b), "decline", nowMs());
    expect((await post(declineB)).status).toBe(200);
    expect(await specStatus(b)).toBe("declined");
    expect((await post(declineB)).status).toBe(409);
  });
});

describe("secrets never leave the control plane", () => {
  const spies = () => {
    const lines: string[] = [];
    const record = (...args: unknown[]) => {
      lines.push(
        args
          .map((a) =>
            a instanceof Error ? `${a.message} ${a.stack}` : typeof a === "string" ? a : JSON.stringify(a),
          )
          .join(" "),
      );
    };
    const all = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(record),
    );
    return {
      lines,
      restore: () => {
        for (const s of all) s.mockRestore();
      },
    };
  };

  const expectClean = (where: string, text: string, extra: string[]) => {
    for (const s of [...SECRETS, ...extra])
      expect(text.includes(s), `${where} contains ${s.slice(0, 8)}…`).toBe(false);
  };

  it("not in responses, logs, webhook deliveries or the dashboard, for a night's worth of traffic", {
    timeout: 120_000,
  }, async () => {
    const logs = spies();
    try {
      await deleteAllWebhooks();
      // The webhook secret is shown once, at creation, and never again.
      const created = await createWebhook({
        url: "https://hooks.example.com/sec",
        events: ["spec.verdict", "spec.failed"],
        links_base: "https://mtor.example.com",
      });
      const chosen = await createWebhook({
        url: "https://hooks.example.com/sec2",
        events: ["spec.verdict"],
        secret: "whsec_c2VjcmV0LWNob3Nlbi1ieS10aGUtb3BlcmF0b3I=",
      });
      const webhookSecrets = [created.secret, chosen.secret, created.secret.slice(6), chosen.secret.slice(6)];
      expect(created.secret).toMatch(/^whsec_/);

      const r = receiver(() => new Response("ok"));
      restoreFetch = r.restore;
      const id = await awaitingReviewWithTraffic();
      await runAlarm();
      expect(r.received.length).toBeGreaterThan(0);
      for (const d of r.received) {
        expectClean(
          `webhook to ${d.url}`,
          `${d.url}\n${JSON.stringify(d.headers)}\n${d.body}`,
          webhookSecrets,
        );
      }

      // Every GET the API has, as JSON and as text, for every role.
      const texts: [string, string][] = [];
      for (const role of ["admin", "dispatch", "read"] as const) {
        for (const route of OPERATOR_ROUTES.filter((x) => x.method === "GET")) {
          const path = fill(route.path, { ...params, spec: id, webhook: created.id });
          for (const accept of ["application/json", "text/plain"]) {
            const res = await api(path, { token: role, headers: { accept } });
            expect(res.status, path).toBeLessThan(500);
            texts.push([
              `${role} ${path} ${accept}`,
              `${JSON.stringify([...res.headers])}\n${await res.text()}`,
            ]);
          }
        }
      }
      // Refusals that carry a token or a signature.
      for (const auth of [`Bearer ${TOKENS.admin}x`, `Bearer ${TOKENS.read}`, "Bearer test-secret-one"]) {
        const res = await api("/v1/freeze", {
          token: null,
          method: "POST",
          headers: { authorization: auth },
        });
        texts.push([`refusal ${auth.slice(0, 12)}`, await res.text()]);
      }
      const forged = await signRequest({
        method: "POST",
        url: `${BASE}/v1/executor/claim`,
        body: "{}",
        keyId: "k1",
        secret: "test-secret-two",
        created: Math.floor(nowMs() / 1000),
      });
      texts.push([
        "forged claim",
        await (
          await req("POST", "/v1/executor/claim", { ...forged, "content-type": "application/json" }, "{}")
        ).text(),
      ]);
      for (const [where, text] of texts) expectClean(where, text, webhookSecrets);

      // Every dashboard page, logged in as admin: the session's own token is not in the HTML either.
      for (const route of DASHBOARD_PAGES) {
        const path = fill(route.path, { ...params, spec: id });
        const res = await SELF.fetch(`${BASE}${path}`, {
          headers: { cookie: `mtor_session=${TOKENS.admin}` },
          redirect: "manual",
        });
        expect(res.status, path).toBe(200);
        expectClean(`dashboard ${path}`, await res.text(), webhookSecrets);
      }
      const login = await SELF.fetch(`${BASE}/login`, {
        method: "POST",
        headers: { origin: BASE, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: `${TOKENS.admin}-wrong` }).toString(),
      });
      expectClean("failed login page", await login.text(), webhookSecrets);
      const link = await SELF.fetch(
        `${BASE}/actions/${await newActionToken("test-action-secret", id, "rnone", "approve", nowMs())}`,
      );
      expectClean("action page", await link.text(), webhookSecrets);

      // The secret is gone from every later answer, for every role.
      for (const role of ["admin", "read"] as const) {
        const list = await (await api("/v1/webhooks", { token: role })).text();
        expect(list).not.toContain(created.secret);
        expect(list).not.toContain('"secret"');
      }
      expectClean("logs", logs.lines.join("\n"), webhookSecrets);
    } finally {
      logs.restore();
      await deleteAllWebhooks();
    }
  });

  /** A spec through claim, heartbeat and a verdict, plus a failed one: the night's usual traffic. */
  async function awaitingReviewWithTraffic(): Promise<string> {
    const provider = `sec-t-${crypto.randomUUID().slice(0, 6)}`;
    const id = await dispatchSpec(`traffic ${provider}`, { provider });
    const run = await claimOne(`ex-${provider}`, provider);
    const client = executorClient();
    await client.heartbeat(run.run_id, {
      token: run.lease.token,
      phase: "harness",
      load: { cpu: 0.1, mem_free: 0.5 },
    });
    await sendVerdict(run, { outcome: "passed", branch: `mtor/${id}-1`, log_tail: "all good" });
    const other = await dispatchSpec(`traffic failed ${provider}`, { provider, attempts: "1" });
    const run2 = await claimOne(`ex-${provider}`, provider);
    await sendVerdict(run2, { outcome: "failed", failure: { kind: "harness", message: "exit 1" } });
    expect(await specStatus(other)).not.toBe("queued");
    return id;
  }
});

describe("SSRF: webhook URLs and redirects", () => {
  const PRIVATE = [
    "http://10.0.0.1/",
    "http://10.255.255.255/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.0.1/",
    "http://127.0.0.1/",
    "http://127.255.0.1:8080/",
    "http://169.254.169.254/latest/meta-data",
    "http://0.0.0.0/",
    "http://100.64.0.1/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[fc00::1]/",
    "http://[fdff:ffff::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "https://printer.local/",
    "http://metadata.google.internal/",
    "http://intranet/",
    // Decimal, hex, octal and short forms of loopback and private addresses.
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.0x0.0x0.0x1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://017700000001/",
    "http://167772161/",
    "http://0xa9fea9fe/",
    "http://3232235521/",
  ];
  const PUBLIC = [
    "https://hooks.example.com/x",
    "http://8.8.8.8/",
    "http://172.32.0.1/",
    "http://172.15.255.255/",
    "http://192.169.0.1/",
    "http://[2606:4700::1111]/",
    "https://ntfy.sh/topic",
  ];

  it("the guard refuses every IPv6 spelling of a loopback or private IPv4 address, and the discouraged ranges", () => {
    for (const url of [
      "http://[::127.0.0.1]/",
      "http://[::7f00:1]/",
      "http://[64:ff9b::7f00:1]/",
      "http://[64:ff9b::10.0.0.1]/",
      "http://[64:ff9b:1::1]/",
      "http://[::ffff:0:7f00:1]/",
      "http://[::ffff:0:127.0.0.1]/",
      "http://[0:0:0:0:0:ffff:7f00:1]/",
      "http://[2002:7f00:1::]/",
      "http://[2002:c0a8:101::1]/",
      "http://[fec0::1]/",
      "http://[2001:0:4136:e378::1]/",
      "http://[2001:db8::1]/",
      "http://[100::1]/",
      "http://[ff02::1]/",
      "http://[fe80::1%25eth0]/",
      "http://[0::1]/",
      "http://[::]/",
    ]) {
      expect(checkWebhookUrl(url, false).ok, url).toBe(false);
    }
    // The same forms around a public IPv4 address are public.
    for (const url of [
      "http://[64:ff9b::808:808]/",
      "http://[2002:808:808::1]/",
      "http://[::ffff:8.8.8.8]/",
    ]) {
      expect(checkWebhookUrl(url, false).ok, url).toBe(true);
    }
  });

  it("the guard takes ports 80, 443 and 1024 and up, and refuses the other well-known ports", () => {
    for (const port of ["", ":80", ":443", ":1024", ":8080", ":8443", ":65535"]) {
      expect(checkWebhookUrl(`https://hooks.example.com${port}/x`, false).ok, port).toBe(true);
    }
    for (const port of [":22", ":25", ":53", ":110", ":445", ":1023"]) {
      expect(checkWebhookUrl(`https://hooks.example.com${port}/x`, false).ok, port).toBe(false);
    }
  });

  it("the guard refuses every private, loopback and link-local form and lets public hosts through", () => {
    for (const url of PRIVATE) expect(checkWebhookUrl(url, false).ok, url).toBe(false);
    for (const url of PUBLIC) expect(checkWebhookUrl(url, false).ok, url).toBe(true);
    for (const url of PRIVATE) expect(checkWebhookUrl(url, true).ok, url).toBe(true);
    for (const url of ["file:///etc/passwd", "gopher://127.0.0.1/", "http://user:pass@hooks.example.com/"]) {
      expect(checkWebhookUrl(url, true).ok, url).toBe(false);
    }
  });

  it("a redirect to a private address is not followed, at any hop", { timeout: 120_000 }, async () => {
    for (const hops of [0, 1, 2]) {
      const calls: string[] = [];
      const fetcher = async (url: string) => {
        calls.push(url);
        const next =
          calls.length <= hops
            ? `https://hop${calls.length}.example.com/`
            : "http://169.254.169.254/latest/meta-data";
        return new Response(null, { status: 308, headers: { location: next } });
      };
      const d = {
        id: "msg_ssrf",
        body: "{}",
        contentType: "application/json",
        targetUrl: "https://hooks.example.com/r",
      };
      const result = await sendWebhook(
        fetcher,
        "whsec_dGVzdC1zZWNyZXQtdGVzdC1zZWNyZXQ=",
        d,
        Date.now(),
        false,
      );
      expect(
        calls.every((u) => !u.includes("169.254")),
        calls.join(" "),
      ).toBe(true);
      expect(calls).toHaveLength(hops + 1);
      expect(result.status).toBeNull();
      expect(result.error).toMatch(/refused redirect target.*169\.254\.169\.254/);
    }
  });

  /** Runs `fn` with the deployed default, ALLOW_PRIVATE_WEBHOOKS off, in the Fleet that checks it. */
  async function withPrivateWebhooksOff<T>(fn: () => Promise<T>): Promise<T> {
    const stub = env.FLEET.get(env.FLEET.idFromName("fleet"));
    const flip = (value: string) =>
      runInDurableObject(stub, (instance) => {
        const fleetEnv = (instance as unknown as { env: Env }).env;
        fleetEnv.ALLOW_PRIVATE_WEBHOOKS = value;
        return fleetEnv.ALLOW_PRIVATE_WEBHOOKS;
      });
    expect(await flip("false")).toBe("false");
    try {
      return await fn();
    } finally {
      await flip("true");
    }
  }

  it("with ALLOW_PRIVATE_WEBHOOKS off, the API refuses a private webhook URL in every form and stores nothing", {
    timeout: 120_000,
  }, async () => {
    await withPrivateWebhooksOff(async () => {
      for (const url of PRIVATE) {
        await unchanged(url, async () => {
          const res = await api("/v1/webhooks", { body: { url, events: ["spec.verdict"] } });
          expect(await errorCode(res), url).toEqual([400, "invalid_webhook_url"]);
        });
      }
      const ok = await api("/v1/webhooks", {
        body: { url: "https://hooks.example.com/public", events: ["spec.verdict"] },
      });
      expect(ok.status).toBe(201);
    });
    await deleteAllWebhooks();
  });

  it("with ALLOW_PRIVATE_WEBHOOKS off, a delivery redirected to a private address is never sent there", {
    timeout: 120_000,
  }, async () => {
    await deleteAllWebhooks();
    await createWebhook({ url: "https://hooks.example.com/redirects", events: ["spec.verdict"] });
    const r = receiver((req) =>
      req.url.startsWith("https://hooks.example.com/")
        ? new Response(null, { status: 307, headers: { location: "http://127.0.0.1:8787/v1/freeze" } })
        : new Response("reached a private address"),
    );
    restoreFetch = r.restore;
    await withPrivateWebhooksOff(async () => {
      const provider = `sec-r-${crypto.randomUUID().slice(0, 6)}`;
      const id = await dispatchSpec(`redirect ${provider}`, { provider });
      const run = await claimOne(`ex-${provider}`, provider);
      await sendVerdict(run, { outcome: "passed", branch: `mtor/${id}-1` });
      await runAlarm();
    });
    expect(r.received.map((x) => x.url)).toEqual(["https://hooks.example.com/redirects"]);
    const { webhooks } = (await (await api("/v1/webhooks")).json()) as { webhooks: { id: string }[] };
    const log = (await (await api(`/v1/webhooks/${webhooks[0].id}/deliveries`)).json()) as {
      deliveries: { status: string; last_error: string }[];
    };
    expect(log.deliveries[0].status).toBe("pending");
    expect(log.deliveries[0].last_error).toMatch(/refused redirect target.*127\.0\.0\.1/);
    await deleteAllWebhooks();
  });
});
