// fast-check generators for hostile requests: bodies, content types, headers, credentials and
// path parameters, each mixing plausible values with malformed, huge, unicode and wrong-typed ones.
import fc from "fast-check";
import { encode } from "./routes";

/** Strings that have broken parsers before: empty, control bytes, traversal, injection, huge. */
const NASTY = [
  "",
  " ",
  "\u0000",
  "\uFEFF",
  "\uD800",
  "../../etc/passwd",
  "%00",
  "%",
  "%zz",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "__proto__",
  "constructor",
  "null",
  "NaN",
  "-1",
  "1e309",
  "9".repeat(400),
  "🤖".repeat(500),
  "é\u0301".repeat(200),
  "a".repeat(70_000),
  "---\n---\n",
  "---\ntitle: [\n---\n",
  "---\ntitle: x\nrepo: y\ntimeout: 99999999999h\nattempts: -1\n---\nbody",
  "---\ntitle: &a x\nrepo: *a\n---\n",
  "{{{{",
  "[]",
  "{}",
  '{"spec":',
];

export const nastyString = fc.constantFrom(...NASTY);

/** Any text: ASCII, full unicode (lone surrogates included), graphemes, or a nasty constant. */
export const anyText = fc.oneof(
  { arbitrary: fc.string({ maxLength: 200 }), weight: 3 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 200 }), weight: 2 },
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 100 }), weight: 2 },
  { arbitrary: nastyString, weight: 3 },
);

/** A value of any JSON type, so each field gets the wrong type some of the time. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 3 },
  { arbitrary: anyText, weight: 2 },
  {
    arbitrary: fc.constantFrom(
      0,
      -1,
      1.5,
      1e308,
      -1e308,
      Number.MAX_SAFE_INTEGER + 2,
      true,
      false,
      null,
      [],
      {},
    ),
    weight: 2,
  },
);

/** Field names the API reads, so objects hit real schemas with wrong types and values. */
const FIELDS = [
  "spec",
  "title",
  "repo",
  "provider",
  "grade",
  "note",
  "retry",
  "slots",
  "enabled",
  "harness",
  "model",
  "action",
  "url",
  "events",
  "format",
  "secret",
  "links_base",
  "executor",
  "free",
  "wait_s",
  "token",
  "phase",
  "load",
  "progress",
  "outcome",
  "flags",
  "failure",
  "branch",
  "head_sha",
  "base_sha",
  "commits",
  "diffstat",
  "usage",
  "duration_ms",
  "log_tail",
  "id",
  "host",
  "version",
  "arch",
  "capacity",
  "providers",
  "repos",
  "__proto__",
];

export const fieldObject = fc.dictionary(
  fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 20 })),
  anyJson,
  {
    maxKeys: 8,
  },
);

/** A request body as bytes or text. */
export type Body = string | Uint8Array | undefined;

const multipartGarbage = fc.constantFrom(
  '--x\r\nContent-Disposition: form-data; name="spec"\r\n\r\nno closing boundary',
  "--x--",
  "not multipart at all",
  '--x\r\nContent-Disposition: form-data; name="_csrf"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nzz\r\n--x--\r\n',
);

export const body: fc.Arbitrary<Body> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 2 },
  { arbitrary: anyText, weight: 3 },
  { arbitrary: anyJson.map((v) => JSON.stringify(v) ?? "null"), weight: 3 },
  { arbitrary: fieldObject.map((o) => JSON.stringify(o)), weight: 4 },
  { arbitrary: fc.uint8Array({ maxLength: 512 }), weight: 2 },
  // Invalid UTF-8 sequences.
  {
    arbitrary: fc.constantFrom(
      new Uint8Array([0xff, 0xfe, 0xfd]),
      new Uint8Array([0xc3, 0x28]),
      new Uint8Array([0xed, 0xa0, 0x80]),
    ),
    weight: 1,
  },
  {
    arbitrary: fc
      .dictionary(fc.string({ maxLength: 10 }), anyText, { maxKeys: 5 })
      .map((o) => new URLSearchParams(o).toString()),
    weight: 2,
  },
  { arbitrary: multipartGarbage, weight: 1 },
  // Just over and just under the 256 KiB limit.
  {
    arbitrary: fc.constantFrom(256 * 1024 + 1, 256 * 1024 - 64, 1024 * 1024).map((n) => "x".repeat(n)),
    weight: 1,
  },
);

export const contentType = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "application/merge-patch+json",
      "text/markdown",
      "text/plain",
      "text/html",
      "application/x-www-form-urlencoded",
      "multipart/form-data",
      "multipart/form-data; boundary=x",
      "application/octet-stream",
      "*/*",
      "",
      "application/json; charset=utf-16",
    ),
    weight: 5,
  },
  {
    arbitrary: fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz/+;= -*"), maxLength: 40 }),
    weight: 1,
  },
);

/** Header values must be ByteStrings without CR/LF: printable ASCII, sometimes long. */
export const headerValue = fc.oneof(
  {
    arbitrary: fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 120,
    }),
    weight: 5,
  },
  { arbitrary: fc.constantFrom("x".repeat(8000), "", " ", "null", "undefined", "*"), weight: 1 },
);

const headerName = fc.oneof(
  fc.constantFrom(
    "accept",
    "origin",
    "referer",
    "sec-fetch-site",
    "idempotency-key",
    "x-forwarded-for",
    "x-forwarded-host",
    "cf-connecting-ip",
    "content-encoding",
    "transfer-encoding-x",
    "cookie",
    "if-none-match",
    "range",
  ),
  fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
);

export const extraHeaders = fc.dictionary(headerName, headerValue, { maxKeys: 4 });

/** An Authorization header that should not be accepted (besides the deliberately valid ones). */
export const badAuthorization = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    "Bearer",
    "Bearer ",
    "Bearer wrong-token",
    "bearer test-admin-token-x",
    "Bearer test-admin-tokenx",
    "Bearer test-admin-toke",
    "Basic dGVzdC1hZG1pbi10b2tlbjo=",
    "Bearer test-admin-token test-admin-token",
    "Token test-admin-token",
    "test-admin-token",
    "Bearer admin:test-admin-token:admin",
    "Bearer test-secret-one",
    "Bearer k1:test-secret-one",
  ),
  headerValue.map((v) => `Bearer ${v}`),
  headerValue,
);

/** A path parameter: a real value from the fixture, or something hostile. */
export const param = (real: string) =>
  fc.oneof(
    { arbitrary: fc.constant(real), weight: 3 },
    { arbitrary: anyText.map((s) => s.slice(0, 300)), weight: 2 },
  );

export const method = fc.oneof(
  { arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"), weight: 4 },
  { arbitrary: fc.stringMatching(/^[A-Z]{1,10}$/), weight: 1 },
);

/** A path: printable or unicode segments, dots, doubled slashes, encoded bytes. */
export const randomPath = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        "v1",
        "specs",
        "executor",
        "runs",
        "actions",
        "fleet",
        "webhooks",
        "..",
        ".",
        "",
        "%2e%2e",
        "%00",
        "healthz",
        "login",
      ),
      fc.string({ maxLength: 30 }).map(encode),
      fc.string({ unit: "grapheme", maxLength: 10 }).map(encode),
    ),
    { maxLength: 6 },
  )
  .map((parts) => `/${parts.join("/")}`);
