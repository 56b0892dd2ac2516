// The dashboard inside workerd: the login cookie's flags, every page behind it,
// CSRF and same-origin checks on every POST, and actions going through the operator API with
// the session token's role.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, claimBody, dispatchSpec, executorClient, TOKENS } from "./helpers";
import { claimOne, sendVerdict } from "./webhooks-helpers";

const ORIGIN = new URL(BASE).origin;

function get(path: string, cookie?: string): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, { redirect: "manual", headers: cookie ? { cookie } : {} });
}

function post(
  path: string,
  form: Record<string, string>,
  opts: { cookie?: string; origin?: string | null } = {},
) {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.origin !== null) headers.origin = opts.origin ?? ORIGIN;
  return SELF.fetch(`${BASE}${path}`, {
    method: "POST",
    redirect: "manual",
    headers,
    body: new URLSearchParams(form).toString(),
  });
}

async function login(token: string): Promise<string> {
  const res = await post("/login", { token, next: "/" });
  expect(res.status).toBe(303);
  const setCookie = res.headers.get("set-cookie") ?? "";
  return setCookie.split(";")[0];
}

async function csrfOf(path: string, cookie: string): Promise<string> {
  const html = await (await get(path, cookie)).text();
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no CSRF field on ${path}`);
  return m[1];
}

const SPEC = `---
title: Dashboard dispatch
repo: sandbox
tests: [test_dashboard]
stop: Stop after this test.
---
From the phone.
`;

describe("login", () => {
  it("sends a visitor without a session to the login form", async () => {
    for (const path of ["/", "/dispatch", "/fleet", "/gates", "/report", "/specs/abcd1234"]) {
      const res = await get(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location")).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    const form = await get("/login");
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('name="token"');
  });

  it("keeps the token in an HttpOnly, Secure, SameSite=Strict cookie", async () => {
    const res = await post("/login", { token: TOKENS.admin, next: "/fleet" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/fleet");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^mtor_session=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
  });

  it("refuses a wrong token, a cross-origin login and an open redirect", async () => {
    const wrong = await post("/login", { token: "nope" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(await wrong.text()).toContain("That token was refused.");
    expect((await post("/login", { token: TOKENS.admin }, { origin: "https://evil.example" })).status).toBe(
      403,
    );
    expect((await post("/login", { token: TOKENS.admin }, { origin: null })).status).toBe(403);
    const offsite = await post("/login", { token: TOKENS.admin, next: "//evil.example/" });
    expect(offsite.headers.get("location")).toBe("/");
  });

  it("sends a login only to a path on this origin: every spelling a browser reads as another host goes to /", async () => {
    for (const next of [
      "/\\evil.example",
      "/\\/evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "/%09/evil.example",
      "/%5Cevil.example",
      "https://evil.example/",
      "javascript:alert(1)",
    ]) {
      const res = await post("/login", { token: TOKENS.admin, next });
      const location = res.headers.get("location") ?? "";
      expect(new URL(location, BASE).origin, `${JSON.stringify(next)} → ${location}`).toBe(
        new URL(BASE).origin,
      );
      expect(/^\/[\\/\s]/.test(location), location).toBe(false);
    }
    // The login page carries the same judgement into its form.
    const page = await (await get(`/login?next=${encodeURIComponent("/\\evil.example")}`)).text();
    expect(page).not.toContain("evil.example");
    // A real path on this origin, with its query, survives.
    const ok = await post("/login", { token: TOKENS.admin, next: "/specs?status=queued" });
    expect(ok.headers.get("location")).toBe("/specs?status=queued");
  });

  it("logs out by clearing the cookie", async () => {
    const cookie = await login(TOKENS.admin);
    const res = await post("/logout", {}, { cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie")).toMatch(/^mtor_session=;.*Max-Age=0/);
  });
});

describe("pages", () => {
  it("renders every page self-contained: nonce'd inline style and script, no external URL", async () => {
    const cookie = await login(TOKENS.read);
    for (const path of ["/", "/?filter=review", "/dispatch", "/fleet", "/gates", "/report"]) {
      const res = await get(path, cookie);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toMatch(/default-src 'none'/);
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
      const html = await res.text();
      expect(html).toContain(`<script nonce="${nonce}">`);
      expect(html).toContain('name="viewport" content="width=device-width');
      expect(html).not.toMatch(/(src|href)="https?:/);
    }
  });

  it("shows the run's patch file by file, coloured, and a patch's markup only as text", async () => {
    const cookie = await login(TOKENS.read);
    const id = await dispatchSpec("patch on the page", { provider: "p-dash-patch" });
    const run = await claimOne("ex-dash-patch", "p-dash-patch");
    const text = [
      "diff --git a/src/a.ts b/src/a.ts",
      "index 1111111..2222222 100644",
      "--- a/src/a.ts",
      "+++ b/src/a.ts",
      "@@ -1,2 +1,2 @@",
      " keep",
      "-const old = 1;",
      '+const s = "<script>alert(1)</script>";',
      "diff --git a/docs/b.md b/docs/b.md",
      "new file mode 100644",
      "--- /dev/null",
      "+++ b/docs/b.md",
      "@@ -0,0 +1,2 @@",
      "+one",
      "+two",
      "",
    ].join("\n");
    await sendVerdict(run, { outcome: "passed", patch: { text, truncated: true, bytes: 300_000 } });
    const res = await get(`/specs/${id}`, cookie);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain("<script>alert(1)");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toMatch(
      /<span class="pname">src\/a\.ts<\/span> <span class="padd">\+1<\/span> <span class="pdel">−1<\/span>/,
    );
    expect(html).toMatch(
      /<span class="pname">docs\/b\.md<\/span> <span class="padd">\+2<\/span> <span class="pdel">−0<\/span>/,
    );
    expect(html).toContain('<span class="l-hunk">@@ -1,2 +1,2 @@</span>');
    expect(html).toContain('<span class="l-del">-const old = 1;</span>');
    expect(html).toContain('<span class="l-add">+two</span>');
    expect(html).toContain('<span class="l-context"> keep</span>');
    expect(html).toMatch(/Cut at \d+ B of 293\.0 KiB: the branch has the rest/);
  });

  it("draws the night's timeline inline on the report page, a hostile spec title only as text", async () => {
    const cookie = await login(TOKENS.read);
    const title = `</text></svg><script>alert("t")</script><svg><text>`;
    const id = await dispatchSpec(title, { provider: "p-dash-timeline" });
    const run = await claimOne("ex-dash-timeline", "p-dash-timeline");
    expect(run.spec_id).toBe(id);
    await sendVerdict(run, { outcome: "rejected", flags: [] });
    const res = await get("/report", cookie);
    expect(res.status).toBe(200);
    const html = await res.text();
    const figure =
      /<figure class="card timeline" id="report-timeline">([\s\S]*?)<\/figure>/.exec(html)?.[1] ?? "";
    expect(figure).toMatch(/^\s*<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(figure).toContain("p-dash-t… 1");
    expect(figure).toContain('class="run run-rejected"');
    expect(figure).toContain("&lt;/text&gt;&lt;/svg&gt;&lt;script&gt;");
    expect(html).not.toContain('<script>alert("t")');
  });

  it("shows each provider's run window in its row on the fleet page", async () => {
    const cookie = await login(TOKENS.read);
    const put = await SELF.fetch(`${BASE}/v1/providers/p-dash-window`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKENS.admin}`, "content-type": "application/json" },
      body: JSON.stringify({ window: "01:00-05:00", window_zone: "Europe/Berlin", window_fit: true }),
    });
    expect(put.status).toBe(200);
    const html = await (await get("/fleet", cookie)).text();
    const row = /<div class="card" data-provider="p-dash-window">([\s\S]*?)<form/.exec(html)?.[1] ?? "";
    expect(row).toMatch(/data-provider-row-window="(open|closed)"/);
    expect(row).toContain("window 01:00-05:00 Europe/Berlin (runs must fit)");
  });

  it("offers kill on a spec awaiting review, as the API allows", async () => {
    const cookie = await login(TOKENS.admin);
    const id = await dispatchSpec("review then kill", { repo: "r-dash-kill", provider: "p-dash-kill" });
    const client = executorClient();
    const claim = await client.claim(
      claimBody("ex-dash-kill", { repos: ["r-dash-kill"], providers: ["p-dash-kill"] }),
    );
    const run = claim.ok ? claim.data.runs[0] : undefined;
    if (!run) throw new Error(`nothing claimed: ${JSON.stringify(claim)}`);
    const v = await client.verdict(run.run_id, {
      token: run.lease.token,
      outcome: "passed",
      flags: [],
      duration_ms: 1,
      review: {
        provider: "big",
        grade: "C-",
        findings: [{ severity: "major", file: "src/pick.ts", line: 7, note: "jitter never applied" }],
        summary: "half of what was asked",
      },
    });
    expect(v.ok && v.data.status).toBe("awaiting_review");
    const page = await (await get(`/specs/${id}`, cookie)).text();
    // The reviewer's grade and findings are on the spec page.
    expect(page).toContain('<strong class="grade">C-</strong> by big: half of what was asked');
    expect(page).toMatch(/src\/pick.ts:7: jitter never applied/);
    expect(page).toContain(`action="/specs/${id}/approve"`);
    expect(page).toContain(`action="/specs/${id}/kill"`);
  });

  it("shows a spec with its buttons and polls fragments of the queue and the spec", async () => {
    const cookie = await login(TOKENS.admin);
    const csrf = await csrfOf("/dispatch", cookie);
    const res = await post("/dispatch", { _csrf: csrf, spec: SPEC }, { cookie });
    expect(res.status).toBe(303);
    const location = res.headers.get("location") ?? "";
    expect(location).toMatch(/^\/specs\/[a-z0-9]+\?done=dispatched$/);
    const id = location.split("/")[2].split("?")[0];

    const page = await (await get(location, cookie)).text();
    expect(page).toContain("Dispatched.");
    expect(page).toContain("Dashboard dispatch");
    expect(page).toContain(`action="/specs/${id}/kill"`);
    expect(page).toContain(`data-poll="/fragments/specs/${id}"`);

    const queue = await (await get("/fragments/queue?filter=active", cookie)).text();
    expect(queue).toContain(`data-spec="${id}"`);
    expect(queue).not.toContain("<html");
    const live = await (await get(`/fragments/specs/${id}`, cookie)).text();
    expect(live).toMatch(/data-key="queued\|0\|/);
    expect((await get("/fragments/queue")).status).toBe(401);

    const missing = await get("/specs/zzzz9999", cookie);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("no spec");
  });

  it("lists field errors of an invalid spec on the form, keeping the text", async () => {
    const cookie = await login(TOKENS.admin);
    const csrf = await csrfOf("/dispatch", cookie);
    const res = await post(
      "/dispatch",
      { _csrf: csrf, spec: "---\ntitle: Half\ncolour: red\n---\nbody\n" },
      { cookie },
    );
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain("<strong>colour</strong>: unknown field");
    expect(html).toContain("<strong>repo</strong>: is required");
    expect(html).toContain("colour: red");
  });
});

describe("actions", () => {
  it("refuses a POST without the session's CSRF token or from another origin", async () => {
    const cookie = await login(TOKENS.admin);
    const csrf = await csrfOf("/fleet", cookie);
    expect((await post("/fleet/freeze", {}, { cookie })).status).toBe(403);
    expect((await post("/fleet/freeze", { _csrf: "forged" }, { cookie })).status).toBe(403);
    expect(
      (await post("/fleet/freeze", { _csrf: csrf }, { cookie, origin: "https://evil.example" })).status,
    ).toBe(403);
    // Another session's token does not fit this session.
    const other = await csrfOf("/fleet", await login(TOKENS.dispatch));
    expect((await post("/fleet/freeze", { _csrf: other }, { cookie })).status).toBe(403);
    const status = (await (
      await SELF.fetch(`${BASE}/v1/status`, { headers: { authorization: `Bearer ${TOKENS.admin}` } })
    ).json()) as {
      frozen: boolean;
    };
    expect(status.frozen).toBe(false);
  });

  it("acts through the API with the session's role", async () => {
    const admin = await login(TOKENS.admin);
    const csrf = await csrfOf("/fleet", admin);
    const frozen = await post("/fleet/freeze", { _csrf: csrf }, { cookie: admin });
    expect(frozen.headers.get("location")).toBe("/fleet?done=frozen");
    expect(await (await get("/fleet?done=frozen", admin)).text()).toContain("Fleet frozen: no new claims");
    await post("/fleet/thaw", { _csrf: csrf }, { cookie: admin });

    const gate = await post("/gates/tests_extra", { _csrf: csrf, action: "review" }, { cookie: admin });
    expect(gate.headers.get("location")).toBe("/gates?done=gate");
    expect(await (await get("/gates", admin)).text()).toMatch(
      /data-gate="tests_extra"[\s\S]*?<option value="review" selected/,
    );
    await post("/gates/tests_extra", { _csrf: csrf, action: "reject" }, { cookie: admin });

    // A read token may look but not act: the API's 403 is shown on the page.
    const reader = await login(TOKENS.read);
    const readCsrf = await csrfOf("/fleet", reader);
    const refused = await post("/fleet/freeze", { _csrf: readCsrf }, { cookie: reader });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/403 forbidden/);

    const dispatcher = await login(TOKENS.dispatch);
    const dCsrf = await csrfOf("/dispatch", dispatcher);
    const created = await post(
      "/dispatch",
      {
        _csrf: dCsrf,
        spec: SPEC.replace("Dashboard dispatch", "Kill me").replace("From the phone.", "Then kill it."),
      },
      { cookie: dispatcher },
    );
    const id = (created.headers.get("location") ?? "").split("/")[2].split("?")[0];
    const approve = await post(`/specs/${id}/approve`, { _csrf: dCsrf, grade: "A" }, { cookie: dispatcher });
    expect(approve.status).toBe(409);
    expect(await approve.text()).toContain("cannot approve");
    const killed = await post(`/specs/${id}/kill`, { _csrf: dCsrf }, { cookie: dispatcher });
    expect(killed.headers.get("location")).toBe(`/specs/${id}?done=killed`);
    expect(await (await get(`/specs/${id}`, dispatcher)).text()).toMatch(/badge s-canceled/);
  });
});

describe("review backlog on the fleet page", () => {
  it("sets the limits through forms, refuses a bad one, and shows the hold as a banner", async () => {
    const cookie = await login(TOKENS.admin);
    const csrf = await csrfOf("/fleet", cookie);
    const bad = await post("/fleet/settings", { _csrf: csrf, max_awaiting_review: "-3" }, { cookie });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("max_awaiting_review: must be 0 (off) or more");

    const set = await post(
      "/fleet/settings",
      { _csrf: csrf, repo: "r-dash", repo_max_awaiting_review: "1" },
      { cookie },
    );
    expect(set.status).toBe(303);
    // One spec of r-dash awaiting review fills that repo's backlog.
    const id = await dispatchSpec("dash backlog", { repo: "r-dash", provider: "p-dash" });
    const run = await claimOne("ex-dash", "p-dash", "r-dash");
    expect(run.spec_id).toBe(id);
    await sendVerdict(run, { outcome: "passed" });

    const fleet = await (await get("/fleet", cookie)).text();
    expect(fleet).toMatch(/data-held="review_backlog"[^>]*>\s*Review backlog full for r-dash \(1 of 1\)/);
    expect(fleet).toMatch(/data-repo="r-dash"[^>]*>\s*r-dash: 1 awaiting · limit 1 · holding its claims/);
    const queue = await (await get("/", cookie)).text();
    expect(queue).toContain('data-held="review_backlog"');

    // Clearing the repo's limit (empty field) lifts the hold.
    const clear = await post(
      "/fleet/settings",
      { _csrf: csrf, repo: "r-dash", repo_max_awaiting_review: "" },
      { cookie },
    );
    expect(clear.status).toBe(303);
    expect(await (await get("/fleet", cookie)).text()).not.toContain('data-held="review_backlog"');
  });
});

describe("spend budget on the dashboard", () => {
  it("sets a provider's budget through the form, refuses a bad one, and draws spend against it as a bar", async () => {
    const cookie = await login(TOKENS.admin);
    const csrf = await csrfOf("/fleet", cookie);
    const bad = await post(
      "/fleet/settings",
      { _csrf: csrf, kind: "provider_budget", provider: "p-dbud", budget_usd: "-2" },
      { cookie },
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("budget_usd: must not be negative");
    const set = await post(
      "/fleet/settings",
      {
        _csrf: csrf,
        kind: "provider_budget",
        provider: "p-dbud",
        budget_usd: "2",
        price_in: "1",
        price_out: "",
      },
      { cookie },
    );
    expect(set.status).toBe(303);
    const id = await dispatchSpec("dash budget", { repo: "r-dbud", provider: "p-dbud" });
    const run = await claimOne("ex-dbud", "p-dbud", "r-dbud");
    expect(run.spec_id).toBe(id);
    await sendVerdict(run, {
      outcome: "failed",
      failure: { kind: "harness", message: "x" },
      usage: { input_tokens: 0, output_tokens: 0, cost_usd: 2.5, turns: 1 },
    });

    const queue = await (await get("/", cookie)).text();
    expect(queue).toMatch(/data-budget="p-dbud" data-holding="yes"/);
    expect(queue).toContain("Provider p-dbud: $2.50 of $2.00 tonight — budget reached: new runs wait");
    expect(queue).toMatch(/<meter[^>]*max="2"[^>]*value="2.5"/);
    expect(queue).toMatch(/data-held="budget"[^>]*>\s*Budget reached for p-dbud/);
    const fleet = await (await get("/fleet", cookie)).text();
    expect(fleet).toMatch(
      /data-provider-budget="p-dbud"[^>]*>\s*p-dbud: \$2.00 a night · \$1 in \/ \$0 out per Mtok/,
    );

    // Emptying the budget field removes it: no bar, no hold.
    const clear = await post(
      "/fleet/settings",
      {
        _csrf: csrf,
        kind: "provider_budget",
        provider: "p-dbud",
        budget_usd: "",
        price_in: "",
        price_out: "",
      },
      { cookie },
    );
    expect(clear.status).toBe(303);
    const after = await (await get("/", cookie)).text();
    expect(after).not.toContain('data-budget="p-dbud"');
    expect(after).not.toContain('data-held="budget"');
  });
});
