// The API described: /v1/openapi.json generated from the zod schemas covers every route the
// app serves, its references resolve, and /docs renders it with no script or external asset.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { BASE } from "./helpers";

interface Doc {
  openapi: string;
  paths: Record<
    string,
    Record<string, { security: unknown[]; responses: Record<string, unknown>; requestBody?: unknown }>
  >;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

async function doc(): Promise<Doc> {
  const res = await SELF.fetch(`${BASE}/v1/openapi.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as Doc;
}

describe("openapi", () => {
  it("is an OpenAPI 3.1 document whose $refs all resolve", async () => {
    const d = await doc();
    expect(d.openapi).toBe("3.1.0");
    const refs = [...JSON.stringify(d).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(20);
    for (const name of refs) expect(d.components.schemas, name).toHaveProperty(name);
    expect(Object.keys(d.components.schemas.SpecDetail.properties ?? {})).toEqual(
      expect.arrayContaining(["id", "status", "front_matter", "body", "runs", "review"]),
    );
    expect(Object.keys(d.components.schemas.VerdictRequest.properties ?? {})).toEqual(
      expect.arrayContaining(["token", "outcome", "flags", "diffstat", "usage", "duration_ms"]),
    );
  });

  it("documents every route the app serves under /v1 and /healthz", async () => {
    const d = await doc();
    const served = createApp()
      .routes.filter((r) => r.method !== "ALL" && (r.path.startsWith("/v1/") || r.path === "/healthz"))
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`);
    const documented = Object.entries(d.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    expect(new Set(served).size).toBeGreaterThan(25);
    // Both ways: the route list is written by hand (openapi/operations.ts), so neither a new
    // route nor a removed one can leave the document behind.
    for (const route of new Set(served)) expect(documented, route).toContain(route);
    const apiDocumented = documented.filter((r) => /^\w+ (\/v1\/|\/healthz$)/.test(r));
    expect(apiDocumented.length).toBeGreaterThan(25);
    for (const route of apiDocumented) expect(served, route).toContain(route);
    expect(d.paths["/v1/specs"].post.security).toEqual([{ operatorToken: [] }]);
    expect(d.paths["/v1/executor/claim"].post.security).toEqual([{ executorSignature: [] }]);
    expect(d.paths["/v1/specs"].post.responses).toHaveProperty("201");
  });

  it("links a created spec, webhook and provider to what can be done with it, by operationId", async () => {
    const d = (await doc()) as unknown as {
      paths: Record<
        string,
        Record<
          string,
          {
            operationId: string;
            responses: Record<
              string,
              { links?: Record<string, { operationId: string; parameters: unknown }> }
            >;
          }
        >
      >;
    };
    const ids = new Set(
      Object.values(d.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId)),
    );
    const links = d.paths["/v1/specs"].post.responses["201"].links ?? {};
    expect(Object.keys(links)).toEqual(["show", "kill", "retry", "approve", "decline"]);
    expect(links.show).toEqual({
      operationId: d.paths["/v1/specs/{id}"].get.operationId,
      parameters: { id: "$response.body#/id" },
    });
    for (const link of [
      ...Object.values(links),
      ...Object.values(d.paths["/v1/webhooks"].post.responses["201"].links ?? {}),
      ...Object.values(d.paths["/v1/providers/{name}"].put.responses["200"].links ?? {}),
    ])
      expect(ids).toContain(link.operationId);
    // A path parameter is validated (400) and names something that may not exist (404).
    expect(Object.keys(d.paths["/v1/webhooks/{id}"].delete.responses)).toEqual(
      expect.arrayContaining(["400", "404"]),
    );
    expect(Object.keys(d.paths["/v1/report"].get.responses)).toContain("400");
  });

  it("is browsable at /docs without scripts or a CDN", async () => {
    const res = await SELF.fetch(`${BASE}/docs`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("mtor HTTP API");
    expect(html).toContain("<code>/v1/specs/{id}/approve</code>");
    expect(html).toContain('id="schema-SpecDetail"');
    expect(html).not.toMatch(/<script|(src|href)="https?:/);
  });
});
