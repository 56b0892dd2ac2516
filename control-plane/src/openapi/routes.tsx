// `GET /v1/openapi.json` and `GET /docs`: the API described, and browsable with no CDN and no
// script. Both are public: they hold the contract, which is no secret.
import { Hono } from "hono";
import { raw } from "hono/html";
import { openApiDocument } from "./document";
import { type Auth, OPERATIONS } from "./operations";

const CSS = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#16181d;background:#f6f7f9;overflow-wrap:anywhere}
main{max-width:52rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem;text-transform:capitalize}
.op{background:#fff;border:1px solid #dde1e7;border-radius:.6rem;padding:.6rem .8rem;margin:.5rem 0}
.m{display:inline-block;min-width:4.2rem;font:600 .8rem ui-monospace,monospace;text-transform:uppercase;padding:.1rem .4rem;border-radius:.3rem;color:#fff;text-align:center}
.get{background:#2458d6}.post{background:#1c7c3a}.put{background:#9a6700}.delete{background:#b42318}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}pre{white-space:pre-wrap;background:#f6f7f9;border:1px solid #dde1e7;border-radius:.4rem;padding:.5rem;max-height:30rem;overflow:auto}
.muted{color:#5d6470;font-size:.88rem}a{color:#2458d6}
`;

const AUTH: Record<Auth, string> = {
  none: "public",
  read: "token: read",
  dispatch: "token: dispatch",
  admin: "token: admin",
  signed: "executor signature",
};

export const openApiRoutes = new Hono()
  .get("/v1/openapi.json", (c) => c.json(openApiDocument()))
  .get("/docs", (c) => {
    const doc = openApiDocument();
    const schemas = (doc.components as { schemas: Record<string, unknown> }).schemas;
    // The API first, the document about itself last.
    const tags = [...new Set(OPERATIONS.map((o) => o.tag))].sort(
      (a, b) => Number(a === "meta") - Number(b === "meta"),
    );
    c.header(
      "content-security-policy",
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
    );
    return c.html(
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <link rel="icon" href="data:," />
          <title>mtor API</title>
          <style>{raw(CSS)}</style>
        </head>
        <body>
          <main>
            <h1>mtor HTTP API</h1>
            <p>
              JSON in and out; <code>Accept: text/plain</code> or <code>?format=text</code> gives text tables.
              Errors are <code>{'{"error": {"code", "message", "details"}}'}</code>. Operator calls take{" "}
              <code>Authorization: Bearer TOKEN</code>. The machine-readable document:{" "}
              <a href="/v1/openapi.json">/v1/openapi.json</a> (OpenAPI 3.1).
            </p>
            {tags.map((tag) => (
              <section id={`tag-${tag}`}>
                <h2>{tag}</h2>
                {OPERATIONS.filter((o) => o.tag === tag).map((o) => (
                  <div class="op" id={`${o.method}-${o.path}`}>
                    <div>
                      <span class={`m ${o.method}`}>{o.method}</span> <code>{o.path}</code>
                    </div>
                    <div>{o.summary}</div>
                    <div class="muted">
                      {AUTH[o.auth]}
                      {o.body && (
                        <>
                          {" · body "}
                          {o.body === "markdown" ? (
                            "Markdown spec (text/markdown, text/plain, form field spec, or JSON {spec})"
                          ) : (
                            <a href={`#schema-${o.body}`}>{o.body}</a>
                          )}
                        </>
                      )}
                      {" · "}
                      {o.ok.status}
                      {o.ok.schema ? (
                        <>
                          {" "}
                          <a href={`#schema-${o.ok.schema}`}>{o.ok.schema}</a>
                        </>
                      ) : (
                        ` ${o.ok.description}`
                      )}
                      {o.ok.text ? " · text table" : ""}
                    </div>
                    {o.query && (
                      <div class="muted">
                        query:{" "}
                        {o.query.map((q) => (
                          <>
                            <code>{q.name}</code> {q.description};{" "}
                          </>
                        ))}
                      </div>
                    )}
                  </div>
                ))}
              </section>
            ))}
            <h2>Schemas</h2>
            {Object.entries(schemas).map(([name, schema]) => (
              <details id={`schema-${name}`} class="op">
                <summary>
                  <code>{name}</code>
                </summary>
                <pre>{JSON.stringify(schema, null, 2)}</pre>
              </details>
            ))}
          </main>
        </body>
      </html>,
    );
  });
