// RFC 9421 signing as the executor protocol fixes it: the signature base byte for byte, and verification.
import { describe, expect, it } from "vitest";
import { contentDigest, parseExecutorKeys, signatureBase, signRequest, verifyRequest } from "../src/signing";

const URL_ = "http://127.0.0.1:8787/v1/executor/claim";
const BODY = '{"free":1}';
const CREATED = 1767225600;
const NONCE = "abcdefghijklmnopqrstuv";
const SECRET = "test-secret-one";

// Fixed by hand (SHA-256 of the body, base64), independent of the module under test.
const DIGEST = "sha-256=:yOeOgJutbGgAnHFfp9aRRgrsrIU05GweQBTRY4k7m6E=:";
const bytes = (s: string) => [...new TextEncoder().encode(s)];

async function hmacBase64(secret: string, text: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(text)));
  return btoa(String.fromCharCode(...mac));
}
const BASE =
  '"@method": POST\n' +
  '"@target-uri": http://127.0.0.1:8787/v1/executor/claim\n' +
  `"content-digest": ${DIGEST}\n` +
  '"@signature-params": ("@method" "@target-uri" "content-digest");created=1767225600;nonce="abcdefghijklmnopqrstuv";keyid="k1";alg="hmac-sha256"';

describe("signature base", () => {
  it("matches the RFC 9421 text byte for byte", async () => {
    expect(await contentDigest(BODY)).toBe(DIGEST);
    const base = signatureBase("POST", URL_, DIGEST, { created: CREATED, nonce: NONCE, keyid: "k1" });
    expect(bytes(base)).toEqual(bytes(BASE));
    expect(base.endsWith("\n")).toBe(false);
  });

  it("signs with HMAC-SHA256 of that base", async () => {
    const headers = await signRequest({
      method: "POST",
      url: URL_,
      body: BODY,
      keyId: "k1",
      secret: SECRET,
      created: CREATED,
      nonce: NONCE,
    });
    const mac = await hmacBase64(SECRET, BASE);
    expect(headers).toEqual({
      "content-digest": DIGEST,
      "signature-input":
        'mtor=("@method" "@target-uri" "content-digest");created=1767225600;nonce="abcdefghijklmnopqrstuv";keyid="k1";alg="hmac-sha256"',
      signature: `mtor=:${mac}:`,
    });
  });
});

describe("verifyRequest", () => {
  const keys = parseExecutorKeys("k1:test-secret-one,k2:test-secret-two");

  async function verify(
    over: {
      method?: string;
      url?: string;
      body?: string;
      headers?: Record<string, string>;
      now?: number;
    } = {},
  ) {
    const headers = await signRequest({
      method: "POST",
      url: URL_,
      body: BODY,
      keyId: "k1",
      secret: SECRET,
      created: CREATED,
      nonce: NONCE,
    });
    const h = new Headers({ ...headers, ...over.headers });
    return verifyRequest({
      method: over.method ?? "POST",
      url: over.url ?? URL_,
      headers: h,
      body: over.body ?? BODY,
      keys,
      now: over.now ?? CREATED,
    });
  }

  const input = (f: (s: string) => string) =>
    f(
      'mtor=("@method" "@target-uri" "content-digest");created=1767225600;nonce="abcdefghijklmnopqrstuv";keyid="k1";alg="hmac-sha256"',
    );

  it("accepts the untouched request", async () => {
    expect(await verify()).toEqual({ ok: true, keyid: "k1", nonce: NONCE, created: CREATED });
  });

  it.each([
    ["method", { method: "PUT" }, "bad_signature"],
    ["target uri", { url: `${URL_}x` }, "bad_signature"],
    ["body", { body: '{"free":2}' }, "digest_mismatch"],
    [
      "created",
      { headers: { "signature-input": input((s) => s.replace("1767225600", "1767225601")) } },
      "bad_signature",
    ],
    [
      "nonce",
      { headers: { "signature-input": input((s) => s.replace("abcdefghij", "abcdefghiK")) } },
      "bad_signature",
    ],
    [
      "keyid",
      { headers: { "signature-input": input((s) => s.replace('keyid="k1"', 'keyid="k2"')) } },
      "bad_signature",
    ],
  ] as const)("refuses a one-byte change to the %s", async (_name, over, code) => {
    expect(await verify(over)).toMatchObject({ ok: false, code });
  });

  it("refuses created 301 s either way and accepts 299 s", async () => {
    expect(await verify({ now: CREATED + 301 })).toMatchObject({ ok: false, code: "signature_expired" });
    expect(await verify({ now: CREATED - 301 })).toMatchObject({ ok: false, code: "signature_expired" });
    expect(await verify({ now: CREATED + 299 })).toMatchObject({ ok: true });
    expect(await verify({ now: CREATED - 299 })).toMatchObject({ ok: true });
  });

  it("names missing headers and unknown keys", async () => {
    const r = await verifyRequest({
      method: "POST",
      url: URL_,
      headers: new Headers(),
      body: BODY,
      keys,
      now: CREATED,
    });
    expect(r).toMatchObject({ ok: false, code: "signature_missing" });
    expect(
      await verify({ headers: { "signature-input": input((s) => s.replace('keyid="k1"', 'keyid="k9"')) } }),
    ).toMatchObject({
      ok: false,
      code: "unknown_key",
    });
  });
});
