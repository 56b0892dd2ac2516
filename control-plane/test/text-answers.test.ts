// curl from a phone: every route answers text when asked, errors included, and a plain
// `curl -d 'do X' …/v1/specs?repo=…` (a form of one key and no value) is taken as the spec.

import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, TOKENS } from "./helpers";

const TEXT = { accept: "text/plain" };
const auth = (role: keyof typeof TOKENS = "admin") => ({ authorization: `Bearer ${TOKENS[role]}` });

async function call(method: string, path: string, headers: Record<string, string>, body?: string) {
  const res = await SELF.fetch(`${BASE}${path}`, { method, headers, body });
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
}

/** The headers `curl -d …` sends: its bytes as typed, labelled as a form. */
const curlForm = () => ({
  "content-type": "application/x-www-form-urlencoded",
  ...auth(),
  ...TEXT,
});

describe("text answers", () => {
  it("POST /v1/specs answers text, and curl -d 'do X' is taken as the spec body", async () => {
    const r = await call(
      "POST",
      "/v1/specs?repo=phone&title=Fix%20the%20flaky%20clock%20test",
      curlForm(),
      "Make the clock test stable + keep it fast",
    );
    expect(r.status).toBe(201);
    expect(r.type).toMatch(/^text\/plain/);
    const id = /^id: (\w+)$/m.exec(r.text)?.[1];
    expect(id, r.text).toBeDefined();
    expect(r.text).toMatch(/^status: queued$/m);
    expect(r.text).toMatch(/^title: Fix the flaky clock test$/m);
    // The body kept what was typed, `+` included (curl does not encode -d data).
    const shown = await call("GET", `/v1/specs/${id}`, { ...auth() });
    expect(JSON.parse(shown.text).body).toBe("Make the clock test stable + keep it fast");
  });

  it("a form of several keys is refused, and the error says the command that works, as text", async () => {
    const r = await call("POST", "/v1/specs?repo=phone", curlForm(), "fix A & B");
    expect(r.status).toBe(400);
    expect(r.type).toMatch(/^text\/plain/);
    expect(r.text).toMatch(/^error invalid_request: the form has no `spec` field/);
    expect(r.text).toContain("curl -H 'Content-Type: text/plain' --data-binary");
    expect(r.text).toMatch(/^ {2}spec: is required$/m);
  });

  it("errors are text when asked: 401, 403, 404, 400 with each field, 413", async () => {
    const none = await call("GET", "/v1/specs", TEXT);
    expect(none).toMatchObject({
      status: 401,
      text: "error unauthorized: missing Authorization: Bearer <token>\n",
    });
    const forbidden = await call("POST", "/v1/freeze", { ...auth("read"), ...TEXT });
    expect(forbidden.status).toBe(403);
    expect(forbidden.text).toMatch(/^error forbidden: this needs the admin role/);
    const missing = await call("GET", "/v1/specs/nope", { ...auth(), ...TEXT });
    expect(missing).toMatchObject({ status: 404, text: 'error not_found: no spec "nope"\n' });
    const unknown = await call("GET", "/v1/nothing-here", { ...auth(), ...TEXT });
    expect(unknown.text).toBe("error not_found: no route GET /v1/nothing-here\n");
    const invalid = await call(
      "POST",
      "/v1/specs",
      { ...auth(), ...TEXT, "content-type": "text/plain" },
      "---\nrepo: x\ntimeout: forever\n---\n",
    );
    expect(invalid.status).toBe(400);
    expect(invalid.text).toMatch(/^error invalid_spec: /);
    expect(invalid.text).toMatch(/^ {2}timeout: /m);
    const big = await call(
      "POST",
      "/v1/specs",
      { ...auth(), ...TEXT, "content-type": "text/plain" },
      "x".repeat(300_000),
    );
    expect(big.status).toBe(413);
    expect(big.text).toMatch(/^error too_large: /);
  });

  it("actions and settings answer text; lists of objects become tables", async () => {
    const put = await call(
      "PUT",
      "/v1/providers/phone-p?format=text",
      { ...auth(), "content-type": "application/json" },
      JSON.stringify({ slots: 3 }),
    );
    expect(put.status).toBe(200);
    expect(put.text).toMatch(/^name: phone-p$/m);
    expect(put.text).toMatch(/^slots: 3$/m);
    const frozen = await call("POST", "/v1/providers/phone-p/freeze", { ...auth(), ...TEXT });
    expect(frozen.text).toMatch(/^frozen: true$/m);
    const hooks = await call("GET", "/v1/webhooks", { ...auth(), ...TEXT });
    expect(hooks.status).toBe(200);
    expect(hooks.type).toMatch(/^text\/plain/);
  });

  it("JSON stays JSON unless text is asked for, and the executor protocol and MCP never change", async () => {
    const json = await call("GET", "/v1/settings", { ...auth() });
    expect(json.type).toMatch(/^application\/json/);
    const claim = await call(
      "POST",
      "/v1/executor/claim",
      { ...TEXT, "content-type": "application/json" },
      "{}",
    );
    expect(claim.status).toBe(401);
    expect(claim.type).toMatch(/^application\/json/);
    const mcp = await call("POST", "/mcp", TEXT, "{}");
    expect(mcp.status).toBe(401);
    expect(mcp.type).toMatch(/^application\/json/);
  });
});
