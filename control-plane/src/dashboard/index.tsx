// The dashboard: server-rendered pages at `/` for the queue, a spec, the fleet,
// gates, dispatch and the report. It calls the operator API in-process with the session's
// token, so roles, validation and errors are exactly the API's.
import {
  type BudgetView,
  type DispatchResponse,
  type ExecutorList,
  FieldErrors,
  type GateList,
  type ProviderList,
  type SpecDetail,
  type SpecList,
  type StatusView,
} from "@mtor/schema";
import { usd } from "@mtor/schema/format";
import type { Context } from "hono";
import { Hono } from "hono";
import type { Child } from "hono/jsx";
import type { Report } from "../report/build";
import { type ApiAnswer, type ApiFetch, callApi } from "./api";
import { Layout, type Section } from "./layout";
import {
  DispatchPage,
  ErrorPage,
  FILTERS,
  FleetPage,
  GatesPage,
  LoginPage,
  QueueList,
  QueuePage,
  ReportPage,
  SPEC_TEMPLATE,
  SpecLive,
  SpecPage,
} from "./pages";
import { csrfFor, csrfValid, endSession, sameOrigin, sessionToken, startSession } from "./session";

const NOTICES: Record<string, string> = {
  approved: "Approved.",
  declined: "Declined.",
  declined_retry: "Declined; another attempt is queued with your note.",
  retried: "Queued for another attempt.",
  killed: "Killed.",
  dispatched: "Dispatched.",
  frozen: "Frozen: no new claims.",
  thawed: "Thawed: claims resume.",
  slots: "Slots saved.",
  drained: "Draining: it finishes its runs and takes no new ones.",
  undrained: "Active again.",
  gate: "Gate saved.",
  settings: "Night controls saved.",
};

interface Held {
  text: string;
  /** The claim reason behind it. */
  reason: "outside_window" | "budget" | "review_backlog";
}

/** The banner while a closed run window, a reached budget or the review backlog holds claims. */
function heldBanner(s: StatusView): Held | undefined {
  const w = s.windows?.fleet;
  if (w && !w.open)
    return {
      reason: "outside_window",
      text: `Outside the run window ${w.window} ${w.zone}: no new claims until ${w.next_change.slice(11, 16)} UTC`,
    };
  const f = s.budget?.fleet;
  if (f?.holding)
    return {
      reason: "budget",
      text: `Budget reached: ${usd(f.spend_usd)} of ${usd(f.budget_usd + f.raised_usd)} spent tonight — no new claims until a raise, a resume or the next night`,
    };
  const b = s.review_backlog;
  if (b?.holding)
    return {
      reason: "review_backlog",
      text: `Review backlog full: ${b.awaiting_review} of ${b.max_awaiting_review} await review — no new claims until reviews bring it down`,
    };
  const repos = b?.repos.filter((r) => r.holding) ?? [];
  if (repos.length > 0)
    return {
      reason: "review_backlog",
      text: `Review backlog full for ${repos.map((r) => `${r.repo} (${r.awaiting_review} of ${r.max_awaiting_review})`).join(", ")}: its specs wait for reviews`,
    };
  const providers = s.budget?.providers.filter((l) => l.holding) ?? [];
  if (providers.length > 0)
    return {
      reason: "budget",
      text: `Budget reached for ${providers.map((l) => l.provider).join(", ")}: their specs wait (budget)`,
    };
  return undefined;
}

function nonce(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** The field errors of an `invalid_spec` answer (`details.errors`), or none. */
function fieldErrors(details: unknown): FieldErrors["errors"] {
  const parsed = FieldErrors.safeParse(details);
  return parsed.success ? parsed.data.errors : [];
}

/** The posted form, or null when the body is not a readable form (a broken multipart body throws). */
async function readForm(c: Context): Promise<Record<string, string | File> | null> {
  try {
    return (await c.req.parseBody()) as Record<string, string | File>;
  } catch {
    return null;
  }
}

export function dashboard(api: ApiFetch) {
  const app = new Hono();

  const page = (
    c: Context,
    section: Section,
    title: string,
    body: Child,
    opts: { status?: number; frozen?: boolean; held?: Held; budget?: BudgetView } = {},
  ) => {
    const n = nonce();
    c.header(
      "content-security-policy",
      `default-src 'none'; style-src 'nonce-${n}'; style-src-attr 'unsafe-inline'; script-src 'nonce-${n}'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    c.header("x-frame-options", "DENY");
    // `no-referrer` would make Chromium send `Origin: null` on form POSTs, which the CSRF check refuses.
    c.header("referrer-policy", "same-origin");
    c.header("cache-control", "no-store");
    return c.html(
      <Layout
        title={title}
        section={section}
        nonce={n}
        frozen={opts.frozen}
        held={opts.held?.text}
        heldReason={opts.held?.reason}
        budget={opts.budget}
      >
        {body}
      </Layout>,
      (opts.status ?? 200) as 200,
    );
  };

  const toLogin = (c: Context) => {
    const url = new URL(c.req.url);
    const next = url.pathname.startsWith("/fragments/") ? "/" : url.pathname + url.search;
    return c.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
  };

  /** Calls the API as the session; a token the API no longer accepts ends the session. */
  const as = async <T,>(
    c: Context,
    token: string,
    method: string,
    path: string,
    body?: unknown,
    accept?: string,
  ) => {
    const r = await callApi<T>(c, api, token, method, path, body, accept);
    if (!r.ok && r.status === 401) endSession(c);
    return r;
  };

  const failed = (r: ApiAnswer<unknown>) => (r.ok ? "" : `${r.error.message} (${r.status} ${r.error.code})`);

  /** Session, same origin and CSRF for every POST; returns the token and form, or a refusal. */
  const guard = async (c: Context): Promise<{ token: string; form: Record<string, string> } | Response> => {
    const token = sessionToken(c);
    if (!token) return toLogin(c);
    if (!sameOrigin(c)) return c.text("cross-origin request refused", 403);
    const raw = await readForm(c);
    if (!raw) return c.text("the form could not be read: send it again from the page", 400);
    const form: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) if (typeof v === "string") form[k] = v;
    if (!(await csrfValid(token, form._csrf)))
      return c.text("stale or missing form token: reload the page and try again", 403);
    return { token, form };
  };

  // ------------------------------------------------------------------ login

  /**
   * Where to go after logging in: a path on this origin, else "/". A browser reads `/\\host`
   * and `/<tab>/host` as `//host`, another site, so the path is judged the way a URL parser
   * reads it, and any control character or backslash refuses it outright.
   */
  const sameOriginPath = (raw: string): string => {
    if (!raw.startsWith("/") || /[\u0000-\u001f\u007f\\]/.test(raw)) return "/";
    const base = "https://mtor.invalid";
    let url: URL;
    try {
      url = new URL(raw, base);
    } catch {
      return "/";
    }
    return url.origin === base ? url.pathname + url.search + url.hash : "/";
  };

  app.get("/login", (c) => {
    const next = c.req.query("next") ?? "/";
    return page(c, "login", "Log in", <LoginPage next={sameOriginPath(next)} />);
  });

  app.post("/login", async (c) => {
    if (!sameOrigin(c)) return c.text("cross-origin request refused", 403);
    const form = await readForm(c);
    if (!form) return c.text("the form could not be read: send it again from the page", 400);
    const token = typeof form.token === "string" ? form.token.trim() : "";
    const nextRaw = typeof form.next === "string" ? form.next : "/";
    const next = sameOriginPath(nextRaw);
    if (!token)
      return page(c, "login", "Log in", <LoginPage next={next} error="Enter a token." />, { status: 400 });
    const check = await callApi(c, api, token, "GET", "/v1/status");
    if (!check.ok) {
      const msg =
        check.status === 401 ? "That token was refused." : `The control plane answered: ${failed(check)}`;
      return page(c, "login", "Log in", <LoginPage next={next} error={msg} />, { status: 401 });
    }
    startSession(c, token);
    return c.redirect(next, 303);
  });

  app.post("/logout", (c) => {
    if (!sameOrigin(c)) return c.text("cross-origin request refused", 403);
    endSession(c);
    return c.redirect("/login", 303);
  });

  // ------------------------------------------------------------------ queue

  const queueQuery = (filter: string) => {
    const statuses = FILTERS.find(([k]) => k === filter)?.[2] ?? "";
    return `/v1/specs?count=100${statuses ? `&status=${statuses}` : ""}`;
  };

  app.get("/", async (c) => {
    const token = sessionToken(c);
    if (!token) return toLogin(c);
    const filter = FILTERS.some(([k]) => k === c.req.query("filter"))
      ? (c.req.query("filter") as string)
      : "all";
    const [list, status] = await Promise.all([
      as<SpecList>(c, token, "GET", queueQuery(filter)),
      as<StatusView>(c, token, "GET", "/v1/status"),
    ]);
    if (!list.ok)
      return list.status === 401
        ? toLogin(c)
        : page(c, "queue", "Queue", <ErrorPage message={failed(list)} />, { status: list.status });
    const counts = status.ok ? status.data.counts : {};
    return page(c, "queue", "Queue", <QueuePage filter={filter} specs={list.data.specs} counts={counts} />, {
      frozen: status.ok && status.data.frozen,
      held: status.ok ? heldBanner(status.data) : undefined,
      budget: status.ok ? status.data.budget : undefined,
    });
  });

  app.get("/fragments/queue", async (c) => {
    const token = sessionToken(c);
    if (!token) return c.text("log in again", 401);
    const filter = c.req.query("filter") ?? "all";
    const list = await as<SpecList>(c, token, "GET", queueQuery(filter));
    if (!list.ok) return c.text(failed(list), list.status as 400);
    c.header("cache-control", "no-store");
    return c.html(<QueueList specs={list.data.specs} />);
  });

  // ------------------------------------------------------------------ one spec

  const specPage = async (
    c: Context,
    token: string,
    id: string,
    extra: { notice?: string; error?: string; status?: number },
  ) => {
    const r = await as<SpecDetail>(c, token, "GET", `/v1/specs/${encodeURIComponent(id)}`);
    if (!r.ok)
      return r.status === 401
        ? toLogin(c)
        : page(c, "queue", "Spec", <ErrorPage message={failed(r)} />, { status: r.status });
    return page(
      c,
      "queue",
      r.data.title,
      <SpecPage spec={r.data} csrf={await csrfFor(token)} notice={extra.notice} error={extra.error} />,
      {
        status: extra.status,
      },
    );
  };

  app.get("/specs/:id", async (c) => {
    const token = sessionToken(c);
    if (!token) return toLogin(c);
    return specPage(c, token, c.req.param("id"), { notice: NOTICES[c.req.query("done") ?? ""] });
  });

  app.get("/fragments/specs/:id", async (c) => {
    const token = sessionToken(c);
    if (!token) return c.text("log in again", 401);
    const r = await as<SpecDetail>(c, token, "GET", `/v1/specs/${encodeURIComponent(c.req.param("id"))}`);
    if (!r.ok) return c.text(failed(r), r.status as 400);
    c.header("cache-control", "no-store");
    return c.html(<SpecLive spec={r.data} />);
  });

  app.post("/specs/:id/:action{approve|decline|retry|kill}", async (c) => {
    const g = await guard(c);
    if (g instanceof Response) return g;
    const id = c.req.param("id");
    const action = c.req.param("action");
    let body: Record<string, unknown> = {};
    if (action === "approve") {
      if (g.form.grade) body.grade = g.form.grade;
      if (g.form.note) body.note = g.form.note;
    } else if (action === "decline") {
      body = { retry: g.form.retry === "1" };
      if (g.form.note) body.note = g.form.note;
    }
    const r = await as(c, g.token, "POST", `/v1/specs/${encodeURIComponent(id)}/${action}`, body);
    if (!r.ok) {
      if (r.status === 401) return toLogin(c);
      return specPage(c, g.token, id, { error: failed(r), status: r.status });
    }
    const done =
      action === "approve"
        ? "approved"
        : action === "decline"
          ? body.retry
            ? "declined_retry"
            : "declined"
          : action === "retry"
            ? "retried"
            : "killed";
    return c.redirect(`/specs/${encodeURIComponent(id)}?done=${done}`, 303);
  });

  // ------------------------------------------------------------------ dispatch

  app.get("/dispatch", async (c) => {
    const token = sessionToken(c);
    if (!token) return toLogin(c);
    // The form needs no data, but a forged or rotated-out cookie must still not get a page.
    const who = await as<StatusView>(c, token, "GET", "/v1/status");
    if (!who.ok && who.status === 401) return toLogin(c);
    return page(c, "dispatch", "Dispatch", <DispatchPage csrf={await csrfFor(token)} text={SPEC_TEMPLATE} />);
  });

  app.post("/dispatch", async (c) => {
    const g = await guard(c);
    if (g instanceof Response) return g;
    const text = g.form.spec ?? "";
    const r = await as<DispatchResponse>(c, g.token, "POST", "/v1/specs", { spec: text });
    if (!r.ok) {
      if (r.status === 401) return toLogin(c);
      return page(
        c,
        "dispatch",
        "Dispatch",
        <DispatchPage
          csrf={await csrfFor(g.token)}
          text={text}
          error={failed(r)}
          fieldErrors={fieldErrors(r.error.details)}
        />,
        { status: r.status },
      );
    }
    return c.redirect(`/specs/${encodeURIComponent(r.data.id)}?done=dispatched`, 303);
  });

  // ------------------------------------------------------------------ fleet

  const fleetPage = async (
    c: Context,
    token: string,
    extra: { notice?: string; error?: string; status?: number },
  ) => {
    const r = await as<StatusView>(c, token, "GET", "/v1/status");
    if (!r.ok)
      return r.status === 401
        ? toLogin(c)
        : page(c, "fleet", "Fleet", <ErrorPage message={failed(r)} />, { status: r.status });
    const [providers, executors] = await Promise.all([
      as<ProviderList>(c, token, "GET", "/v1/providers"),
      as<ExecutorList>(c, token, "GET", "/v1/executors"),
    ]);
    return page(
      c,
      "fleet",
      "Fleet",
      <FleetPage
        frozen={r.data.frozen}
        reviewBacklog={r.data.review_backlog}
        windows={r.data.windows}
        budget={r.data.budget}
        providers={providers.ok ? providers.data.providers : r.data.providers}
        executors={executors.ok ? executors.data.executors : r.data.executors}
        csrf={await csrfFor(token)}
        notice={extra.notice}
        error={extra.error}
      />,
      {
        status: extra.status,
        frozen: r.data.frozen,
        held: heldBanner(r.data),
        budget: r.data.budget,
      },
    );
  };

  app.get("/fleet", async (c) => {
    const token = sessionToken(c);
    if (!token) return toLogin(c);
    return fleetPage(c, token, { notice: NOTICES[c.req.query("done") ?? ""] });
  });

  const fleetAction =
    (path: (c: Context, form: Record<string, string>) => [string, string, unknown?], done: string) =>
    async (c: Context) => {
      const g = await guard(c);
      if (g instanceof Response) return g;
      const [method, apiPath, body] = path(c, g.form);
      const r = await as(c, g.token, method, apiPath, body ?? {});
      if (!r.ok)
        return r.status === 401 ? toLogin(c) : fleetPage(c, g.token, { error: failed(r), status: r.status });
      return c.redirect(`/fleet?done=${done}`, 303);
    };
  const p = (c: Context, k: string) => encodeURIComponent(c.req.param(k) ?? "");

  app.post(
    "/fleet/freeze",
    fleetAction(() => ["POST", "/v1/freeze"], "frozen"),
  );
  app.post(
    "/fleet/thaw",
    fleetAction(() => ["POST", "/v1/thaw"], "thawed"),
  );
  app.post(
    "/fleet/providers/:name/freeze",
    fleetAction((c) => ["POST", `/v1/providers/${p(c, "name")}/freeze`], "frozen"),
  );
  app.post(
    "/fleet/providers/:name/thaw",
    fleetAction((c) => ["POST", `/v1/providers/${p(c, "name")}/thaw`], "thawed"),
  );
  app.post(
    "/fleet/providers/:name/slots",
    fleetAction(
      (c, form) => ["PUT", `/v1/providers/${p(c, "name")}`, { slots: Number(form.slots) }],
      "slots",
    ),
  );
  // The review backlog limit: the fleet's, or one repo's when a repo is named (empty = the fleet's).
  app.post(
    "/fleet/settings",
    fleetAction((_c, form) => {
      const n = (v: string | undefined) => (v === undefined || v.trim() === "" ? null : Number(v));
      const repo = (form.repo ?? "").trim();
      // Empty means none; anything else goes to the API as a number, which says what is wrong.
      const dollars = (v: string | undefined) => (v === undefined || v.trim() === "" ? null : Number(v));
      if (form.kind === "budget") {
        return [
          "PUT",
          "/v1/settings",
          {
            budget_usd: dollars(form.budget_usd),
            ...(form.fallback_run_usd?.trim() ? { fallback_run_usd: Number(form.fallback_run_usd) } : {}),
            ...(form.raise_usd?.trim() ? { raise_usd: Number(form.raise_usd) } : {}),
          },
        ];
      }
      if (form.kind === "provider_budget") {
        const input = dollars(form.price_in);
        const output = dollars(form.price_out);
        return [
          "PUT",
          `/v1/providers/${encodeURIComponent((form.provider ?? "").trim() || "-")}`,
          {
            budget_usd: dollars(form.budget_usd),
            price:
              input === null && output === null
                ? null
                : { input_per_mtok: input ?? 0, output_per_mtok: output ?? 0 },
          },
        ];
      }
      if (form.kind === "window") {
        const window = (form.window ?? "").trim();
        return [
          "PUT",
          "/v1/settings",
          window
            ? {
                window,
                window_zone: (form.window_zone ?? "").trim() || "UTC",
                window_fit: form.window_fit === "on",
              }
            : { window: null },
        ];
      }
      return [
        "PUT",
        "/v1/settings",
        repo
          ? { repos: { [repo]: { max_awaiting_review: n(form.repo_max_awaiting_review) } } }
          : { max_awaiting_review: n(form.max_awaiting_review) ?? Number.NaN },
      ];
    }, "settings"),
  );
  app.post(
    "/fleet/executors/:id/drain",
    fleetAction((c) => ["POST", `/v1/executors/${p(c, "id")}/drain`], "drained"),
  );
  app.post(
    "/fleet/executors/:id/undrain",
    fleetAction((c) => ["POST", `/v1/executors/${p(c, "id")}/undrain`], "undrained"),
  );

  // ------------------------------------------------------------------ gates

  const gatesPage = async (
    c: Context,
    token: string,
    extra: { notice?: string; error?: string; status?: number },
  ) => {
    const r = await as<GateList>(c, token, "GET", "/v1/gates");
    if (!r.ok)
      return r.status === 401
        ? toLogin(c)
        : page(c, "gates", "Gates", <ErrorPage message={failed(r)} />, { status: r.status });
    return page(
      c,
      "gates",
      "Gates",
      <GatesPage
        gates={Object.entries(r.data.gates).map(([name, g]) => ({ name, ...g }))}
        csrf={await csrfFor(token)}
        notice={extra.notice}
        error={extra.error}
      />,
      {
        status: extra.status,
      },
    );
  };

  app.get("/gates", async (c) => {
    const token = sessionToken(c);
    if (!token) return toLogin(c);
    return gatesPage(c, token, { notice: NOTICES[c.req.query("done") ?? ""] });
  });

  app.post("/gates/:name", async (c) => {
    const g = await guard(c);
    if (g instanceof Response) return g;
    const r = await as(c, g.token, "PUT", `/v1/gates/${encodeURIComponent(c.req.param("name"))}`, {
      action: g.form.action,
      retry: g.form.retry === "1",
    });
    if (!r.ok)
      return r.status === 401 ? toLogin(c) : gatesPage(c, g.token, { error: failed(r), status: r.status });
    return c.redirect("/gates?done=gate", 303);
  });

  // ------------------------------------------------------------------ report

  app.get("/report", async (c) => {
    const token = sessionToken(c);
    if (!token) return toLogin(c);
    const since = c.req.query("since") ?? "";
    const m = /^(\d{1,4})h$/.exec(since);
    const query = m
      ? `&since=${encodeURIComponent(new Date(Date.now() - Number(m[1]) * 3600_000).toISOString())}`
      : "";
    const [r, json, svg] = await Promise.all([
      as<string>(c, token, "GET", `/v1/report?format=text${query}`, undefined, "text/plain"),
      as<Report>(c, token, "GET", `/v1/report?${query.slice(1)}`),
      as<string>(c, token, "GET", `/v1/report?format=svg${query}`, undefined, "image/svg+xml"),
    ]);
    if (!r.ok)
      return r.status === 401
        ? toLogin(c)
        : page(c, "report", "Report", <ErrorPage message={failed(r)} />, { status: r.status });
    const report = json.ok ? json.data : null;
    return page(
      c,
      "report",
      "Report",
      <ReportPage report={report} text={r.data} timeline={svg.ok ? svg.data : null} since={m ? since : ""} />,
    );
  });

  return app;
}
