// The MCP server at /mcp, driven by the official MCP SDK client against the control plane in
// local workerd (wrangler dev): every tool, every role refusal, bad input and bad tokens.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { ExecutorClient } from "@mtor/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalControlPlane, startControlPlane } from "../../src/local/control-plane";

const TOKENS = { admin: "mcp-admin-token", dispatch: "mcp-dispatch-token", read: "mcp-read-token" };
const EXECUTOR_KEY = { id: "mcp", secret: "mcp-executor-secret" };
const TOOLS = [
  "approve",
  "decline",
  "dispatch_spec",
  "kill",
  "lint_spec",
  "list_specs",
  "providers",
  "report",
  "retry",
  "show_spec",
  "status",
];

let dir: string;
let cp: LocalControlPlane;
const clients: Partial<Record<keyof typeof TOKENS, Client>> = {};

async function connect(token: string | null): Promise<Client> {
  const client = new Client({ name: "mtor-test", version: "0.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${cp.url}/mcp`), {
    requestInit: token === null ? {} : { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

const as = (role: keyof typeof TOKENS) => {
  const c = clients[role];
  if (!c) throw new Error(`no MCP client for ${role}`);
  return c;
};

async function tool(role: keyof typeof TOKENS, name: string, args: Record<string, unknown> = {}) {
  const r = (await as(role).callTool({ name, arguments: args })) as CallToolResult;
  const text = r.content.map((c) => (c.type === "text" ? c.text : "")).join("");
  return { isError: r.isError === true, text };
}

async function ok<T = Record<string, unknown>>(
  role: keyof typeof TOKENS,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const r = await tool(role, name, args);
  if (r.isError) throw new Error(`${name} as ${role} answered an error: ${r.text}`);
  return JSON.parse(r.text) as T;
}

const spec = (title: string, extra = "") =>
  `---\ntitle: ${title}\nrepo: sandbox\nprovider: demo\ntests: [test_${title.replace(/\W+/g, "_")}]\nstop: Stop after the one test.\n${extra}---\nAdd a small function.\n`;

/** Claims the spec's run as a signed executor and reports `outcome`. */
async function finishRun(specId: string, outcome: "passed" | "rejected"): Promise<void> {
  const client = new ExecutorClient({ url: cp.url, keyId: EXECUTOR_KEY.id, secret: EXECUTOR_KEY.secret });
  const claim = await client.claim({
    executor: {
      id: "mcp-box",
      host: "test",
      version: "0.1.0",
      arch: "linux-x64",
      capacity: 1,
      providers: ["demo"],
      repos: ["sandbox"],
      load: { cpu: 0, mem_free: 0.9 },
    },
    free: 1,
    wait_s: 0,
  });
  if (!claim.ok) throw new Error(`claim refused: ${JSON.stringify(claim)}`);
  const run = claim.data.runs.find((r) => r.spec_id === specId);
  if (!run) throw new Error(`spec ${specId} was not claimed: ${JSON.stringify(claim.data)}`);
  const verdict = await client.verdict(run.run_id, {
    token: run.lease.token,
    outcome,
    flags:
      outcome === "rejected"
        ? [{ gate: "tests_extra", action: "reject", detail: "2 tests beyond the 1 named" }]
        : [],
    branch: `mtor/${run.spec_id}-${run.attempt}`,
    head_sha: "0123456789abcdef0123456789abcdef01234567",
    commits: 1,
    diffstat: { files: 2, insertions: 12, deletions: 0 },
    duration_ms: 900,
  });
  if (!verdict.ok) throw new Error(`verdict refused: ${JSON.stringify(verdict)}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mtor-mcp-test-"));
  cp = await startControlPlane({
    persistDir: join(dir, "state"),
    vars: {
      OPERATOR_TOKENS: Object.entries(TOKENS)
        .map(([role, token]) => `${role}-op:${token}:${role}`)
        .join(","),
      EXECUTOR_KEYS: `${EXECUTOR_KEY.id}:${EXECUTOR_KEY.secret}`,
    },
  });
  for (const role of Object.keys(TOKENS) as (keyof typeof TOKENS)[])
    clients[role] = await connect(TOKENS[role]);
});

afterAll(async () => {
  for (const c of Object.values(clients)) await c?.close();
  await cp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("connecting", () => {
  it("lists every tool with input schemas taken from the API's zod schemas", async () => {
    const { tools } = await as("read").listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName.dispatch_spec.inputSchema.required).toEqual(["spec"]);
    // ApproveRequest's grade pattern, ListQuery's bounds and ProviderUpdate's slots reach the client.
    const approve = byName.approve.inputSchema.properties as Record<string, { pattern?: string }>;
    expect(approve.grade.pattern).toBe("^[A-F][+-]?$");
    const list = byName.list_specs.inputSchema.properties as Record<string, { maximum?: number }>;
    expect(list.count.maximum).toBe(200);
    const providers = byName.providers.inputSchema.properties as Record<
      string,
      { properties?: Record<string, unknown> }
    >;
    expect(Object.keys(providers.settings.properties ?? {})).toContain("slots");
  });

  it("refuses a missing or wrong bearer token with 401", async () => {
    await expect(connect(null)).rejects.toThrow(/401|unauthorized/i);
    await expect(connect("not-a-token")).rejects.toThrow(/401|unauthorized/i);
    const res = await fetch(`${cp.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
  });

  it("answers GET with 405: the server is stateless and opens no stream", async () => {
    const res = await fetch(`${cp.url}/mcp`, {
      headers: { authorization: `Bearer ${TOKENS.read}`, accept: "text/event-stream" },
    });
    expect(res.status).toBe(405);
  });
});

describe("specs", () => {
  it("lint_spec reports errors and warnings and queues nothing", async () => {
    const before = await ok<{ specs: unknown[] }>("read", "list_specs", {});
    const bad = await ok<{ ok: boolean; errors: { field: string }[] }>("read", "lint_spec", {
      spec: "---\ntitle: No repo\n---\nbody\n",
    });
    expect(bad.ok).toBe(false);
    expect(bad.errors.map((e) => e.field)).toContain("repo");
    const loose = await ok<{
      ok: boolean;
      warnings: string[];
      lint: { code: string; field: string }[];
      spec: { repo: string };
    }>("read", "lint_spec", {
      spec: "Loose spec\nNo tests and no stop.",
      repo: "sandbox",
    });
    expect(loose.ok).toBe(true);
    expect(loose.spec.repo).toBe("sandbox");
    expect(loose.warnings.join("\n")).toMatch(/spec_lint: no `tests`/);
    expect(loose.warnings.join("\n")).toMatch(/spec_lint: no `stop`/);
    expect(loose.lint.map((l) => [l.code, l.field])).toEqual([
      ["no_tests", "tests"],
      ["no_stop", "stop"],
    ]);
    const after = await ok<{ specs: unknown[] }>("read", "list_specs", {});
    expect(after.specs.length).toBe(before.specs.length);
  });

  it("lint_spec says a dispatch would be refused while the spec_lint gate rejects", async () => {
    const put = await fetch(`${cp.url}/v1/gates/spec_lint`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKENS.admin}`, "content-type": "application/json" },
      body: JSON.stringify({ action: "reject" }),
    });
    expect(put.status).toBe(200);
    try {
      const r = await ok<{ ok: boolean; errors: { field: string }[] }>("read", "lint_spec", {
        spec: "Loose spec\nNo tests.",
        repo: "sandbox",
      });
      expect(r.ok).toBe(false);
      expect(r.errors.map((e) => e.field).sort()).toEqual(["stop", "tests"]);
      const refused = await tool("dispatch", "dispatch_spec", {
        spec: "Loose spec\nNo tests.",
        repo: "sandbox",
      });
      expect(refused.isError).toBe(true);
      expect(refused.text).toMatch(/^400 invalid_spec/);
    } finally {
      await fetch(`${cp.url}/v1/gates/spec_lint`, {
        method: "PUT",
        headers: { authorization: `Bearer ${TOKENS.admin}`, "content-type": "application/json" },
        body: JSON.stringify({ action: "review" }),
      });
    }
  });

  it("dispatch_spec queues a spec and returns its warnings; list_specs and show_spec find it", async () => {
    const d = await ok<{ id: string; status: string; lint: { code: string }[] }>(
      "dispatch",
      "dispatch_spec",
      {
        spec: "Warned spec\nNo tests and no stop here.",
        repo: "sandbox",
        provider: "demo",
      },
    );
    expect(d.status).toBe("queued");
    expect(d.lint.map((l) => l.code)).toEqual(["no_tests", "no_stop"]);
    const list = await ok<{ specs: { id: string; status: string }[] }>("read", "list_specs", {
      status: "queued",
      count: 50,
    });
    expect(list.specs.map((s) => s.id)).toContain(d.id);
    const shown = await ok<{ id: string; title: string; runs: unknown[]; front_matter: { repo: string } }>(
      "read",
      "show_spec",
      { id: d.id },
    );
    expect(shown).toMatchObject({
      id: d.id,
      title: "Warned spec",
      runs: [],
      front_matter: { repo: "sandbox" },
    });
    await ok("dispatch", "kill", { id: d.id });
  });

  it("show_spec carries the run's branch, flags and outcome; approve takes a grade", async () => {
    const d = await ok<{ id: string }>("dispatch", "dispatch_spec", { spec: spec("approve me") });
    await finishRun(d.id, "passed");
    const shown = await ok<{ status: string; runs: { branch: string; outcome: string; flags: unknown[] }[] }>(
      "read",
      "show_spec",
      { id: d.id },
    );
    expect(shown.status).toBe("awaiting_review");
    expect(shown.runs[0]).toMatchObject({ branch: `mtor/${d.id}-1`, outcome: "passed", flags: [] });
    const refused = await tool("read", "approve", { id: d.id });
    expect(refused).toEqual({
      isError: true,
      text: expect.stringMatching(/^403 forbidden: this needs the dispatch role/),
    });
    const approved = await ok<{ status: string }>("dispatch", "approve", {
      id: d.id,
      grade: "B+",
      note: "tidy",
    });
    expect(approved.status).toBe("approved");
    const after = await ok<{ review: { grade: string; by: string } }>("read", "show_spec", { id: d.id });
    expect(after.review).toMatchObject({ grade: "B+", by: "dispatch-op" });
  });

  it("decline with retry queues a new attempt; retry requeues a rejected spec", async () => {
    const d = await ok<{ id: string }>("dispatch", "dispatch_spec", { spec: spec("decline me") });
    await finishRun(d.id, "passed");
    expect((await tool("read", "decline", { id: d.id })).text).toMatch(/^403 forbidden/);
    const declined = await ok<{ status: string }>("dispatch", "decline", {
      id: d.id,
      note: "redo",
      retry: true,
    });
    expect(declined.status).toBe("queued");
    // Out of the way, so the next claim takes the spec below.
    await ok("dispatch", "kill", { id: d.id });

    const r = await ok<{ id: string }>("dispatch", "dispatch_spec", { spec: spec("reject me") });
    await finishRun(r.id, "rejected");
    const rejected = await ok<{ status: string; runs: { flags: { gate: string }[] }[] }>(
      "read",
      "show_spec",
      {
        id: r.id,
      },
    );
    expect(rejected.runs.at(-1)?.flags.map((f) => f.gate)).toEqual(["tests_extra"]);
    if (rejected.status === "rejected") {
      expect((await tool("read", "retry", { id: r.id })).text).toMatch(/^403 forbidden/);
      expect((await ok<{ status: string }>("dispatch", "retry", { id: r.id })).status).toBe("queued");
    } else {
      throw new Error(`a rejected run left the spec ${rejected.status}, not rejected`);
    }
    // Retrying an active spec is the API's 409, passed through as the tool's error.
    expect((await tool("dispatch", "retry", { id: r.id })).text).toMatch(/^409 /);
  });

  it("kill cancels a queued spec; the read role may not", async () => {
    const d = await ok<{ id: string }>("dispatch", "dispatch_spec", { spec: spec("kill me") });
    expect((await tool("read", "kill", { id: d.id })).text).toMatch(/^403 forbidden/);
    expect((await ok<{ status: string }>("dispatch", "kill", { id: d.id })).status).toBe("canceled");
  });

  it("dispatch_spec is refused for the read role", async () => {
    const r = await tool("read", "dispatch_spec", { spec: spec("read may not") });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/^403 forbidden: this needs the dispatch role; token read-op has read/);
  });
});

describe("bad input", () => {
  it("is refused with the field named, before anything reaches the queue", async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["dispatch_spec", {}, /spec/],
      ["dispatch_spec", { spec: 42 }, /spec/],
      ["lint_spec", { spec: ["x"] }, /spec/],
      ["list_specs", { status: "queued,bogus" }, /unknown status bogus/],
      ["list_specs", { count: 500 }, /count/],
      ["show_spec", {}, /id/],
      ["approve", { id: "x", grade: "Z" }, /grade must be A to F/],
      ["decline", { id: "x", retry: "yes" }, /retry/],
      ["report", { since: "yesterday" }, /ISO 8601/],
      ["providers", { action: "explode" }, /action/],
      ["providers", { action: "update", name: "demo", settings: { slots: 0 } }, /slots/],
      ["providers", { action: "update", name: "demo", settings: { colour: "red" } }, /colour/],
      ["providers", { action: "freeze", name: "bad name!" }, /name/],
    ];
    for (const [name, args, re] of cases) {
      const r = await tool("admin", name, args);
      expect({ name, args, ...r }).toEqual({ name, args, isError: true, text: expect.stringMatching(re) });
    }
    // An unknown spec is the API's 404.
    expect((await tool("read", "show_spec", { id: "nope" })).text).toMatch(/^404 not_found/);
    // update without settings says what it needs.
    expect((await tool("admin", "providers", { action: "update", name: "demo" })).text).toMatch(
      /update needs `name` and `settings`/,
    );
  });
});

describe("fleet", () => {
  it("providers lists, updates, freezes and thaws; only admin may change anything", async () => {
    const listed = await ok<{ providers: { name: string }[] }>("read", "providers", {});
    expect(listed.providers.map((p) => p.name)).toContain("demo");
    for (const args of [
      { action: "update", name: "demo", settings: { slots: 3 } },
      { action: "freeze", name: "demo" },
      { action: "thaw" },
    ]) {
      const r = await tool("dispatch", "providers", args);
      expect({ args, ...r }).toEqual({
        args,
        isError: true,
        text: expect.stringMatching(/^403 forbidden: this needs the admin role/),
      });
    }
    expect(
      await ok("admin", "providers", { action: "update", name: "demo", settings: { slots: 3 } }),
    ).toMatchObject({
      slots: 3,
    });
    await ok("admin", "providers", { action: "freeze", name: "demo" });
    const frozen = await ok<{ providers: { name: string; frozen: boolean }[] }>("read", "providers", {
      action: "list",
    });
    expect(frozen.providers.find((p) => p.name === "demo")?.frozen).toBe(true);
    await ok("admin", "providers", { action: "thaw", name: "demo" });
    await ok("admin", "providers", { action: "freeze" });
    expect((await ok<{ frozen: boolean }>("read", "status")).frozen).toBe(true);
    await ok("admin", "providers", { action: "thaw" });
    const status = await ok<{ frozen: boolean; providers: { name: string; frozen: boolean }[] }>(
      "read",
      "status",
    );
    expect(status.frozen).toBe(false);
    expect(status.providers.find((p) => p.name === "demo")?.frozen).toBe(false);
  });

  it("providers sets a spend budget and prices; status shows spend against it", async () => {
    const bad = await tool("admin", "providers", {
      action: "update",
      name: "demo",
      settings: { budget_usd: -1 },
    });
    expect(bad).toEqual({ isError: true, text: expect.stringMatching(/budget_usd/) });
    const price = { input_per_mtok: 1, output_per_mtok: 2 };
    expect(
      await ok("admin", "providers", {
        action: "update",
        name: "demo",
        settings: { budget_usd: 500, price },
      }),
    ).toMatchObject({ budget_usd: 500, price });
    const status = await ok<{
      budget: { providers: { provider: string; budget_usd: number; holding: boolean }[] };
    }>("read", "status");
    expect(status.budget.providers.find((l) => l.provider === "demo")).toMatchObject({
      budget_usd: 500,
      holding: false,
    });
    await ok("admin", "providers", {
      action: "update",
      name: "demo",
      settings: { budget_usd: null, price: null },
    });
  });

  it("report answers the night's report, over a chosen window too", async () => {
    const report = await ok<{ specs: { title: string }[] }>("read", "report", {});
    expect(report.specs.map((s) => s.title)).toContain("approve me");
    const empty = await ok<{ specs: unknown[] }>("read", "report", {
      since: "2001-01-01T00:00:00Z",
      until: "2001-01-02T00:00:00Z",
    });
    expect(empty.specs).toEqual([]);
  });
});
