// The operator API: auth and roles, dispatch in every body shape, bad input, the
// spec transitions, idempotency and dedup, and the fleet, provider, gate and executor routes.
import {
  createExecutionContext,
  env,
  runInDurableObject,
  SELF,
  waitOnExecutionContext,
} from "cloudflare:test";
import type { DispatchResponse } from "@mtor/schema/wire";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { Fleet } from "../src/fleet/fleet";
import production from "../src/index";
import {
  api,
  BASE,
  claimBody,
  dispatchSpec,
  executorClient,
  fleet,
  specText,
  startClock,
  TOKENS,
} from "./helpers";
import { TestFleet } from "./worker/test-fleet";

interface ErrorBody {
  error: {
    code: string;
    message: string;
    details?: { errors?: { field: string; message: string }[]; existing_id?: string };
  };
}

async function err(res: Response): Promise<[number, ErrorBody["error"]]> {
  return [res.status, ((await res.json()) as ErrorBody).error];
}

async function specCount(): Promise<number> {
  const status = (await (await api("/v1/status")).json()) as { counts: Record<string, number> };
  return Object.values(status.counts).reduce((a, b) => a + b, 0);
}

beforeAll(async () => {
  await startClock();
});

describe("auth", () => {
  it("401 without a token or with a wrong one; 403 for the wrong role", async () => {
    expect(await err(await api("/v1/specs", { token: null }))).toMatchObject([401, { code: "unauthorized" }]);
    expect(
      await err(await api("/v1/specs", { token: null, headers: { authorization: "Bearer nope" } })),
    ).toMatchObject([401, { code: "unauthorized" }]);
    expect((await api("/v1/specs", { token: "read" })).status).toBe(200);
    expect(await err(await api("/v1/specs", { token: "read", body: specText("read role") }))).toMatchObject([
      403,
      { code: "forbidden" },
    ]);
    expect(await err(await api("/v1/freeze", { token: "dispatch", method: "POST" }))).toMatchObject([
      403,
      { code: "forbidden" },
    ]);
    expect(
      await err(await api("/v1/providers/p-role", { token: "dispatch", method: "PUT", body: { slots: 3 } })),
    ).toMatchObject([403, { code: "forbidden" }]);
  });

  it("refuses every operator request when no tokens are configured (fail closed)", async () => {
    const app = createApp();
    const res = await app.request(
      `${BASE}/v1/specs`,
      { headers: { authorization: "Bearer test-admin-token" } },
      { ...env, OPERATOR_TOKENS: "" },
    );
    expect(await err(res)).toMatchObject([401, { code: "unauthorized" }]);
  });
});

describe("test-only routes", () => {
  it("are not in the production Worker: /__test/* answers 404 there and changes nothing", async () => {
    const before = await fleet().now();
    for (const path of ["/__test/clock", "/__test/seed", "/__test/anything"]) {
      const ctx = createExecutionContext();
      const res = await production.fetch(
        new Request(`${BASE}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ms: 0, template: "x", queued: 5 }),
        }),
        env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(await err(res), path).toMatchObject([404, { code: "not_found" }]);
    }
    expect(await fleet().now()).toBe(before);
  });

  it("the production Fleet class has no way to pin its clock or seed, and the test build binds its subclass", async () => {
    for (const method of ["setClock", "benchSeed"]) expect(method in Fleet.prototype, method).toBe(false);
    const stub = env.FLEET.get(env.FLEET.idFromName("fleet"));
    expect(await runInDurableObject(stub, (fleet) => fleet instanceof TestFleet)).toBe(true);
    // The request the production Worker answered 404 reaches the test build's route.
    const pin = (ms: number) =>
      SELF.fetch(`${BASE}/__test/clock`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ms }),
      });
    const before = await fleet().now();
    expect((await pin(before + 1234)).status).toBe(200);
    expect(await fleet().now()).toBe(before + 1234);
    expect((await pin(before)).status).toBe(200);
  });
});

describe("dispatch", () => {
  it("a YAML alias bomb in the front matter is a 400 invalid_spec, not a 500", async () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const [name, prev] = [String.fromCharCode(97 + i), String.fromCharCode(96 + i)];
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(",")}]`);
    }
    const res = await api("/v1/specs", { body: `---\n${lines.join("\n")}\ntitle: *i\n---\nBody.\n` });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { errors: { field: string }[] } } };
    expect(body.error.code).toBe("invalid_spec");
    expect(body.error.details.errors[0].field).toBe("front_matter");
  });

  it("accepts text/markdown and answers 201 with id, status, title, provider, position, warnings", async () => {
    const res = await api("/v1/specs", { body: specText("markdown body", { repo: "r-d1" }) });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    // No executor has checked in with repo r-d1, so the answer says the spec will wait.
    expect(body).toMatchObject({
      status: "queued",
      title: "markdown body",
      provider: "any",
      warnings: [expect.stringMatching(/^not_served: no executor has advertised repo `r-d1` yet/)],
    });
    expect(body.id).toMatch(/^[a-z0-9]{8}$/);
    expect(body.position).toBeGreaterThanOrEqual(1);
  });

  it("accepts text/plain, a urlencoded form, a multipart form and JSON", async () => {
    const plain = await api("/v1/specs", {
      body: specText("plain", { repo: "r-d2" }, "Body plain."),
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
    expect(plain.status).toBe(201);

    const form = await api("/v1/specs", {
      body: new URLSearchParams({
        spec: specText("urlencoded", { repo: "r-d2" }, "Body urlencoded."),
      }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(201);

    const multipart = new FormData();
    multipart.set("spec", specText("multipart", { repo: "r-d2" }, "Body multipart."));
    const mp = await fetchWithBody("/v1/specs", multipart);
    expect(mp.status).toBe(201);

    const json = await api("/v1/specs", { body: { spec: specText("json", { repo: "r-d2" }, "Body json.") } });
    expect(json.status).toBe(201);
    expect(((await json.json()) as { title: string }).title).toBe("json");
  });

  it("takes raw Markdown that curl --data-binary labels as a form, and still refuses a form without spec", async () => {
    const raw = await api("/v1/specs", {
      body: specText("curl data-binary", { repo: "r-d3" }, "Body sent raw."),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(raw.status).toBe(201);
    expect(((await raw.json()) as { title: string }).title).toBe("curl data-binary");

    const noSpec = await api("/v1/specs", {
      body: "title=x&repo=y",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(noSpec.status).toBe(400);
    expect(((await noSpec.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
  });

  it("takes fields from query parameters; front matter wins", async () => {
    const res = await api("/v1/specs?repo=r-query&provider=p-query&priority=3&title=ignored", {
      body: "---\ntitle: from front matter\nprovider: p-fm\ntests: [t]\nstop: stop\n---\nBody.",
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; provider: string; title: string };
    expect(created).toMatchObject({ provider: "p-fm", title: "from front matter" });
    const detail = (await (await api(`/v1/specs/${created.id}`)).json()) as {
      repo: string;
      front_matter: { priority: number };
    };
    expect(detail.repo).toBe("r-query");
    expect(detail.front_matter.priority).toBe(3);
  });

  it("shows the front matter's defaults as a spec writes them: timeout 2h, attempts 3, priority 0, provider any", async () => {
    const res = await api("/v1/specs", {
      body: "---\ntitle: defaults\nrepo: r-defaults\ntests: [t]\nstop: stop\n---\nDefaults body.",
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const detail = (await (await api(`/v1/specs/${id}`)).json()) as { front_matter: Record<string, unknown> };
    expect(detail.front_matter).toMatchObject({
      timeout: "2h",
      timeout_s: 7200,
      attempts: 3,
      priority: 0,
      provider: "any",
    });
    const custom = await api("/v1/specs", {
      body: "---\ntitle: ninety\nrepo: r-defaults\ntimeout: 90m\ntests: [t]\nstop: stop\n---\nNinety body.",
    });
    const { id: customId } = (await custom.json()) as { id: string };
    const customDetail = (await (await api(`/v1/specs/${customId}`)).json()) as {
      front_matter: Record<string, unknown>;
    };
    expect(customDetail.front_matter).toMatchObject({ timeout: "1h30m", timeout_s: 5400 });
  });

  it("uses the body's first line as the title without front matter, with spec_lint warnings", async () => {
    const res = await api("/v1/specs?repo=r-notitle", {
      body: "# Fix the flaky test\n\nIt fails on Tuesdays.",
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as DispatchResponse;
    expect(body.title).toBe("Fix the flaky test");
    expect(body.lint.map((l) => [l.code, l.field])).toEqual([
      ["no_tests", "tests"],
      ["no_stop", "stop"],
    ]);
    // The sentences stay for people, one per finding (beside others, such as an unserved repo).
    expect(body.warnings).toEqual(expect.arrayContaining(body.lint.map((l) => `spec_lint: ${l.message}`)));
  });

  it.each([
    ["invalid YAML", "---\ntitle: [unclosed\nrepo: mtor\n---\nx", "front_matter"],
    ["an unknown field", "---\ntitle: t\nrepo: mtor\ncolour: blue\n---\nx", "colour"],
    ["a missing title", "---\nrepo: mtor\n---\n", "title"],
    ["a missing repo", "---\ntitle: t\n---\nx", "repo"],
    ["a bad duration", "---\ntitle: t\nrepo: mtor\ntimeout: 2 weeks\n---\nx", "timeout"],
    [
      "a glob in paths with a backwards range",
      "---\ntitle: t\nrepo: mtor\npaths: ['src/[z-a]']\n---\nx",
      "paths.0",
    ],
  ])("refuses %s with 400 invalid_spec naming the field, and changes nothing", async (_name, text, field) => {
    const before = await specCount();
    const [status, e] = await err(await api("/v1/specs", { body: text }));
    expect(status).toBe(400);
    expect(e.code).toBe("invalid_spec");
    expect(e.details?.errors?.map((x) => x.field)).toContain(field);
    expect(await specCount()).toBe(before);
  });

  it("refuses a body over 256 KiB with 413 too_large", async () => {
    const before = await specCount();
    const big = specText("big", { repo: "r-big" }, "x".repeat(256 * 1024));
    expect(await err(await api("/v1/specs", { body: big }))).toMatchObject([413, { code: "too_large" }]);
    expect(await specCount()).toBe(before);
  });

  it("refuses a body over 256 KiB even without Content-Length (streamed)", async () => {
    const chunk = new TextEncoder().encode("y".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 5) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const { SELF } = await import("cloudflare:test");
    const res = await SELF.fetch(`${BASE}/v1/specs`, {
      method: "POST",
      headers: { authorization: "Bearer test-admin-token", "content-type": "text/markdown" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(await err(res)).toMatchObject([413, { code: "too_large" }]);
  });

  it("refuses another content type with 415, bad JSON with 400 invalid_json", async () => {
    const before = await specCount();
    expect(
      await err(await api("/v1/specs", { body: "<spec/>", headers: { "content-type": "application/xml" } })),
    ).toMatchObject([415, { code: "unsupported_media_type" }]);
    expect(
      await err(
        await api("/v1/specs", { body: '{"spec": ', headers: { "content-type": "application/json" } }),
      ),
    ).toMatchObject([400, { code: "invalid_json" }]);
    expect(await err(await api("/v1/specs", { body: { text: "no spec field" } }))).toMatchObject([
      400,
      { code: "invalid_request" },
    ]);
    expect(await specCount()).toBe(before);
  });

  it("refuses `after` naming an unknown spec", async () => {
    const [status, e] = await err(
      await api("/v1/specs", { body: specText("after unknown", { repo: "r-au", after: "[zzzzzzzz]" }) }),
    );
    expect(status).toBe(400);
    expect(e.details?.errors?.[0].field).toBe("after");
  });

  it("turns spec_lint warnings into 400 when that gate rejects", async () => {
    expect((await api("/v1/gates/spec_lint", { method: "PUT", body: { action: "reject" } })).status).toBe(
      200,
    );
    const [status, e] = await err(await api("/v1/specs?repo=r-lint", { body: "Lint me\n\nno tests" }));
    await api("/v1/gates/spec_lint", { method: "PUT", body: { action: "review" } });
    expect(status).toBe(400);
    expect(e.details?.errors?.map((x) => x.field).sort()).toEqual(["stop", "tests"]);
  });

  it("warns when the body replaces a symbol `removes` does not list, and sends `removes` with the claim", async () => {
    const text =
      "---\ntitle: replace the router\nrepo: r-removes\nprovider: p-removes\ntests: [t]\nstop: stop\nremoves: [legacy_dispatch]\n---\nReplace `router_v1` with a table; drop `legacy_dispatch`.\n";
    const res = await api("/v1/specs", { body: text });
    expect(res.status).toBe(201);
    const body = (await res.json()) as DispatchResponse;
    expect(body.lint).toEqual([
      expect.objectContaining({ code: "replace_not_removed", field: "removes", name: "router_v1" }),
    ]);
    const claim = await executorClient().claim(
      claimBody("ex-removes", { repos: ["r-removes"], providers: ["p-removes"] }),
    );
    expect(claim.ok && claim.data.runs[0]?.spec.removes).toEqual(["legacy_dispatch"]);

    await api("/v1/gates/spec_lint", { method: "PUT", body: { action: "reject" } });
    const [status, e] = await err(
      await api("/v1/specs", {
        body: text.replace("replace the router", "again").replace("r-removes", "r-removes2"),
      }),
    );
    await api("/v1/gates/spec_lint", { method: "PUT", body: { action: "review" } });
    expect(status).toBe(400);
    expect(e.details?.errors?.map((x) => x.field)).toEqual(["removes"]);
  });
});

describe("dedup and idempotency", () => {
  it("re-dispatching an active spec gives 409 duplicate with the existing id; once approved it is accepted again", async () => {
    const text = specText("dedup me", { repo: "r-dedup", provider: "p-dedup" });
    const first = (await (await api("/v1/specs", { body: text })).json()) as { id: string };
    const [status, e] = await err(await api("/v1/specs", { body: text }));
    expect(status).toBe(409);
    expect(e.code).toBe("duplicate");
    expect(e.details?.existing_id).toBe(first.id);

    const client = executorClient();
    const claim = await client.claim(claimBody("ex-dedup", { repos: ["r-dedup"], providers: ["p-dedup"] }));
    const run = claim.ok ? claim.data.runs[0] : undefined;
    expect(run?.spec_id).toBe(first.id);
    await client.verdict(run!.run_id, {
      token: run!.lease.token,
      outcome: "passed",
      flags: [],
      duration_ms: 1,
    });
    expect(
      (await api(`/v1/specs/${first.id}/approve`, { method: "POST", body: { grade: "B+", note: "ok" } }))
        .status,
    ).toBe(200);
    expect((await api("/v1/specs", { body: text })).status).toBe(201);
  });

  it("the same Idempotency-Key and body replay the first response; another body gives 422", async () => {
    const text = specText("idempotent", { repo: "r-idem" });
    const headers = { "idempotency-key": "key-1" };
    const first = await api("/v1/specs", { body: text, headers });
    expect(first.status).toBe(201);
    const a = (await first.json()) as { id: string };
    const before = await specCount();
    const again = await api("/v1/specs", { body: text, headers });
    expect(again.status).toBe(201);
    expect(((await again.json()) as { id: string }).id).toBe(a.id);
    expect(await specCount()).toBe(before);

    const other = await api("/v1/specs", { body: specText("idempotent 2", { repo: "r-idem" }), headers });
    expect(await err(other)).toMatchObject([422, { code: "idempotency_key_reused" }]);
    expect(await specCount()).toBe(before);

    // Keys are scoped to the token: another token's same key is a new request (here a duplicate).
    const scoped = await api("/v1/specs", { body: text, headers, token: "dispatch" });
    expect(await err(scoped)).toMatchObject([409, { code: "duplicate" }]);
  });

  it("a failed request does not hold its Idempotency-Key", async () => {
    const headers = { "idempotency-key": "key-2" };
    expect((await api("/v1/specs", { body: "---\nrepo: r-x\n---\n", headers })).status).toBe(400);
    expect((await api("/v1/specs", { body: "---\nrepo: r-x\n---\n", headers })).status).toBe(400);
  });
});

describe("list and show", () => {
  it("lists newest first with status filter and cursor paging", async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await dispatchSpec(`list ${i}`, { repo: "r-list" }));
    const page1 = (await (await api("/v1/specs?count=2")).json()) as {
      specs: { id: string }[];
      next_cursor: string;
    };
    expect(page1.specs.map((s) => s.id)).toEqual([ids[2], ids[1]]);
    const page2 = (await (await api(`/v1/specs?count=2&cursor=${page1.next_cursor}`)).json()) as {
      specs: { id: string }[];
    };
    expect(page2.specs[0].id).toBe(ids[0]);

    const queued = (await (await api("/v1/specs?status=queued,leased&count=200")).json()) as {
      specs: { status: string }[];
    };
    expect(queued.specs.every((s) => ["queued", "leased"].includes(s.status))).toBe(true);
    const summary = queued.specs[0];
    expect(Object.keys(summary).sort()).toEqual(
      [
        "attempt",
        "created_at",
        "flags",
        "id",
        "max_attempt",
        "outcome",
        "provider",
        "repo",
        "run_provider",
        "status",
        "title",
        "updated_at",
      ].sort(),
    );
  });

  it("refuses a bad status, count or cursor with 400 naming the parameter", async () => {
    const [status, e] = await err(await api("/v1/specs?status=bogus"));
    expect(status).toBe(400);
    expect(e.details?.errors?.[0].field).toBe("status");
    expect((await err(await api("/v1/specs?count=0")))[0]).toBe(400);
    expect((await err(await api("/v1/specs?cursor=nope")))[0]).toBe(400);
  });

  it("answers text tables with Accept: text/plain or ?format=text", async () => {
    const id = await dispatchSpec("text table", { repo: "r-text" });
    const res = await api("/v1/specs", { headers: { accept: "text/plain" } });
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text.split("\n")[0]).toMatch(/^ID\s+STATUS\s+PROVIDER/);
    expect(text).toContain(id);
    const one = await (await api(`/v1/specs/${id}?format=text`)).text();
    expect(one).toContain(`${id}  queued  text table`);
    for (const path of ["/v1/status", "/v1/providers", "/v1/executors", "/v1/gates"]) {
      const r = await api(`${path}?format=text`);
      expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
    }
  });

  it("shows one spec with front matter, body, runs and review; 404 for an unknown id", async () => {
    const id = await dispatchSpec("show me", { repo: "r-show", targets: "[src/a.ts]" }, "Body text.");
    const detail = (await (await api(`/v1/specs/${id}`)).json()) as Record<string, unknown>;
    expect(detail).toMatchObject({
      id,
      body: "Body text.",
      runs: [],
      review: null,
      front_matter: { targets: ["src/a.ts"] },
    });
    expect(await err(await api("/v1/specs/zzzzzzzz"))).toMatchObject([404, { code: "not_found" }]);
  });
});

describe("transitions", () => {
  it("kill cancels a queued spec; killing it again is 409", async () => {
    const id = await dispatchSpec("kill me", { repo: "r-kill2" });
    const res = await api(`/v1/specs/${id}/kill`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe("canceled");
    expect(await err(await api(`/v1/specs/${id}/kill`, { method: "POST" }))).toMatchObject([
      409,
      { code: "invalid_transition" },
    ]);
  });

  it("approving or declining a queued spec is 409 and changes nothing", async () => {
    const id = await dispatchSpec("not yet", { repo: "r-trans" });
    expect(await err(await api(`/v1/specs/${id}/approve`, { method: "POST" }))).toMatchObject([
      409,
      { code: "invalid_transition" },
    ]);
    expect(await err(await api(`/v1/specs/${id}/decline`, { method: "POST" }))).toMatchObject([
      409,
      { code: "invalid_transition" },
    ]);
    expect(await err(await api(`/v1/specs/${id}/retry`, { method: "POST" }))).toMatchObject([
      409,
      { code: "invalid_transition" },
    ]);
    expect(((await (await api(`/v1/specs/${id}`)).json()) as { status: string }).status).toBe("queued");
  });

  it("retry requeues a canceled spec; 404 for an unknown spec", async () => {
    const id = await dispatchSpec("retry me", { repo: "r-retry" });
    await api(`/v1/specs/${id}/kill`, { method: "POST" });
    const res = await api(`/v1/specs/${id}/retry`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe("queued");
    expect(await err(await api("/v1/specs/zzzzzzzz/retry", { method: "POST" }))).toMatchObject([
      404,
      { code: "not_found" },
    ]);
  });

  it("approve records grade and note; a bad grade is 400", async () => {
    const client = executorClient();
    const id = await dispatchSpec("review me", { repo: "r-review", provider: "p-review" });
    const claim = await client.claim(
      claimBody("ex-review", { repos: ["r-review"], providers: ["p-review"] }),
    );
    const run = claim.ok ? claim.data.runs[0] : undefined;
    await client.verdict(run!.run_id, {
      token: run!.lease.token,
      outcome: "passed",
      flags: [],
      duration_ms: 1,
    });
    expect(
      await err(await api(`/v1/specs/${id}/approve`, { method: "POST", body: { grade: "Z" } })),
    ).toMatchObject([400, { code: "invalid_request" }]);
    expect(
      await err(
        await api(`/v1/specs/${id}/approve`, {
          method: "POST",
          body: "{bad",
          headers: { "content-type": "application/json" },
        }),
      ),
    ).toMatchObject([400, { code: "invalid_json" }]);
    const res = await api(`/v1/specs/${id}/approve`, {
      method: "POST",
      body: { grade: "A-", note: "neat" },
      token: "dispatch",
    });
    expect(res.status).toBe(200);
    const detail = (await (await api(`/v1/specs/${id}`)).json()) as {
      status: string;
      review: Record<string, unknown>;
    };
    expect(detail.status).toBe("approved");
    expect(detail.review).toMatchObject({ decision: "approved", grade: "A-", note: "neat", by: "disp" });
  });

  it("decline with retry queues a new attempt whose feedback carries the note", async () => {
    const client = executorClient();
    const ex = { repos: ["r-decline"], providers: ["p-decline"] };
    const id = await dispatchSpec("decline me", { repo: "r-decline", provider: "p-decline" });
    const c1 = await client.claim(claimBody("ex-decline", ex));
    const run = c1.ok ? c1.data.runs[0] : undefined;
    await client.verdict(run!.run_id, {
      token: run!.lease.token,
      outcome: "passed",
      flags: [],
      duration_ms: 1,
    });
    const res = await api(`/v1/specs/${id}/decline`, {
      method: "POST",
      body: { note: "use the helper", retry: true },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe("queued");
    const c2 = await client.claim(claimBody("ex-decline", ex));
    const run2 = c2.ok ? c2.data.runs[0] : undefined;
    expect(run2?.attempt).toBe(2);
    expect(run2?.feedback.join(" ")).toContain("use the helper");
  });
});

describe("fleet, providers, gates, executors", () => {
  it("status shows frozen, counts, providers and executors", async () => {
    const status = (await (await api("/v1/status")).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ frozen: false });
    expect(status.counts).toBeTypeOf("object");
    expect(Array.isArray(status.providers)).toBe(true);
    expect(Array.isArray(status.executors)).toBe(true);
  });

  it("status answers monitor: null with a hint while no monitor pass has run (a dev server without cron)", async () => {
    const status = (await (await api("/v1/status")).json()) as Record<string, unknown>;
    expect(status).toHaveProperty("monitor", null);
    expect(status.monitor_hint).toMatch(/no monitor pass has run yet/);
    const text = await (await api("/v1/status?format=text")).text();
    expect(text).toContain("monitor: no monitor pass has run yet");
  });

  it("PUT a provider's slots, refuse bad values, delete it", async () => {
    const res = await api("/v1/providers/p-put", {
      method: "PUT",
      body: { slots: 5, model: "glm-5.1", harness: "claude" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      name: "p-put",
      slots: 5,
      effective_slots: 5,
      model: "glm-5.1",
      harness: "claude",
    });
    expect(await err(await api("/v1/providers/p-put", { method: "PUT", body: { slots: 0 } }))).toMatchObject([
      400,
      { code: "invalid_request" },
    ]);
    expect(await err(await api("/v1/providers/p-put", { method: "PUT", body: { slotz: 1 } }))).toMatchObject([
      400,
      { code: "invalid_request" },
    ]);
    expect((await api("/v1/providers/p-put", { method: "DELETE" })).status).toBe(200);
    expect(await err(await api("/v1/providers/p-put", { method: "DELETE" }))).toMatchObject([
      404,
      { code: "not_found" },
    ]);
    expect(await err(await api("/v1/providers/p-nope/freeze", { method: "POST" }))).toMatchObject([
      404,
      { code: "not_found" },
    ]);
  });

  it("reads a JSON body sent as text/plain or without a Content-Type; refuses other types with 415", async () => {
    const put = (headers: Record<string, string>) =>
      api("/v1/gates/commit_flood", { method: "PUT", body: '{"action": "review"}', headers });
    expect((await put({ "content-type": "text/plain;charset=UTF-8" })).status).toBe(200);
    const { SELF } = await import("cloudflare:test");
    const bare = await SELF.fetch(`${BASE}/v1/gates/commit_flood`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKENS.admin}` },
      body: new TextEncoder().encode('{"action": "reject"}'),
    });
    expect(bare.status).toBe(200);
    expect(await err(await put({ "content-type": "application/xml" }))).toMatchObject([
      415,
      { code: "unsupported_media_type" },
    ]);
  });

  it("GET and PUT gates; unknown gate or action is 400", async () => {
    const gates = (await (await api("/v1/gates")).json()) as {
      gates: Record<string, { action: string; retry: boolean }>;
    };
    expect(gates.gates.tests_extra).toEqual({ action: "reject", retry: false });
    const res = await api("/v1/gates/tests_extra", {
      method: "PUT",
      body: { action: "review", retry: true },
    });
    expect(await res.json()).toEqual({ name: "tests_extra", action: "review", retry: true });
    await api("/v1/gates/tests_extra", { method: "PUT", body: { action: "reject", retry: false } });
    expect((await err(await api("/v1/gates/nope", { method: "PUT", body: { action: "off" } })))[0]).toBe(400);
    expect(
      (await err(await api("/v1/gates/empty_diff", { method: "PUT", body: { action: "maybe" } })))[0],
    ).toBe(400);
  });

  it("drain of an unknown executor is 404", async () => {
    expect(await err(await api("/v1/executors/nobody/drain", { method: "POST" }))).toMatchObject([
      404,
      { code: "not_found" },
    ]);
  });

  it("an unknown route is 404 in the envelope", async () => {
    expect(await err(await api("/v1/nothing"))).toMatchObject([404, { code: "not_found" }]);
  });
});

async function fetchWithBody(path: string, body: FormData): Promise<Response> {
  const { SELF } = await import("cloudflare:test");
  return SELF.fetch(`${BASE}${path}`, {
    method: "POST",
    headers: { authorization: "Bearer test-admin-token" },
    body,
  });
}
