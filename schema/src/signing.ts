// RFC 9421 HTTP Message Signatures (HMAC-SHA256) with an RFC 9530 Content-Digest, exactly as
// the executor protocol fixes them (docs/api.md). Web Crypto only, so the Worker and Node share one implementation.

export const SIGNATURE_LABEL = "mtor";
export const SIGNED_COMPONENTS = ["@method", "@target-uri", "content-digest"] as const;
export const MAX_SKEW_S = 300;
export const NONCE_TTL_S = 600;
export const MIN_NONCE_LENGTH = 16;

const enc = new TextEncoder();

export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (let i = 0; i < u8.length; i++) s += String.fromCharCode(u8[i]);
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    const s = atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

function bodyBytes(body: string | Uint8Array | ArrayBuffer): Uint8Array<ArrayBuffer> {
  if (typeof body === "string") return new Uint8Array(enc.encode(body));
  const src = body instanceof Uint8Array ? body : new Uint8Array(body);
  const out = new Uint8Array(src.byteLength);
  out.set(src);
  return out;
}

/** `sha-256=:<base64>:` of the exact body bytes (RFC 9530). */
export async function contentDigest(body: string | Uint8Array | ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bodyBytes(body));
  return `sha-256=:${toBase64(digest)}:`;
}

export interface SignatureParams {
  created: number;
  nonce: string;
  keyid: string;
}

/** The inner list and parameters, as they appear in Signature-Input and in the base. */
export function signatureParamsValue(p: SignatureParams): string {
  const list = SIGNED_COMPONENTS.map((c) => `"${c}"`).join(" ");
  return `(${list});created=${p.created};nonce="${p.nonce}";keyid="${p.keyid}";alg="hmac-sha256"`;
}

/** The signature base of RFC 9421 §2.5: one line per component, no trailing newline. */
export function signatureBase(method: string, targetUri: string, digest: string, p: SignatureParams): string {
  return [
    `"@method": ${method.toUpperCase()}`,
    `"@target-uri": ${targetUri}`,
    `"content-digest": ${digest}`,
    `"@signature-params": ${signatureParamsValue(p)}`,
  ].join("\n");
}

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

export function randomNonce(bytes = 18): string {
  const u8 = new Uint8Array(bytes);
  crypto.getRandomValues(u8);
  return toBase64(u8).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export interface SignInput {
  method: string;
  url: string;
  body: string | Uint8Array;
  keyId: string;
  secret: string;
  /** Unix seconds; defaults to now. */
  created?: number;
  nonce?: string;
}

/** Headers to add to a request: Content-Digest, Signature-Input and Signature. */
export async function signRequest(input: SignInput): Promise<Record<string, string>> {
  const digest = await contentDigest(input.body);
  const params: SignatureParams = {
    created: input.created ?? Math.floor(Date.now() / 1000),
    nonce: input.nonce ?? randomNonce(),
    keyid: input.keyId,
  };
  const base = signatureBase(input.method, input.url, digest, params);
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(input.secret), enc.encode(base));
  return {
    "content-digest": digest,
    "signature-input": `${SIGNATURE_LABEL}=${signatureParamsValue(params)}`,
    signature: `${SIGNATURE_LABEL}=:${toBase64(mac)}:`,
  };
}

export type SignatureErrorCode =
  | "signature_missing"
  | "signature_malformed"
  | "unknown_key"
  | "bad_signature"
  | "digest_mismatch"
  | "signature_expired"
  | "nonce_replayed";

export type VerifyResult =
  | { ok: true; keyid: string; nonce: string; created: number }
  | { ok: false; code: SignatureErrorCode; message: string };

const INPUT_RE =
  /^mtor=\(((?:"[^"]+"\s*)*)\);created=(\d{1,12});nonce="([^"]*)";keyid="([^"]*)";alg="([^"]*)"$/;

/** Parses Signature-Input; only the exact shape the executor protocol fixes is accepted. */
export function parseSignatureInput(
  value: string,
): (SignatureParams & { components: string[]; alg: string }) | null {
  const m = INPUT_RE.exec(value.trim());
  if (!m) return null;
  const components = [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]);
  return { components, created: Number(m[2]), nonce: m[3], keyid: m[4], alg: m[5] };
}

export interface VerifyInput {
  method: string;
  url: string;
  headers: { get(name: string): string | null };
  body: Uint8Array | ArrayBuffer | string;
  /** keyid → secret; several keys may be live at once. */
  keys: ReadonlyMap<string, string>;
  /**
   * Unix seconds of the verifier's clock, or null when the caller checks `created` itself with
   * `checkCreated` (the control plane does so where a test drives its clock).
   */
  now: number | null;
}

/** Refuses a signature created more than MAX_SKEW_S from `now` (unix seconds); null when fresh. */
export function checkCreated(
  created: number,
  now: number,
): { ok: false; code: "signature_expired"; message: string } | null {
  if (Math.abs(now - created) <= MAX_SKEW_S) return null;
  return {
    ok: false,
    code: "signature_expired",
    message: `created is ${now - created}s from the control plane's clock; at most ${MAX_SKEW_S}s is allowed`,
  };
}

/**
 * Verifies a signed request statelessly. Nonce replay is the caller's to check, with the
 * returned keyid and nonce, because only the caller has the store of seen nonces.
 */
export async function verifyRequest(input: VerifyInput): Promise<VerifyResult> {
  const digestHeader = input.headers.get("content-digest");
  const sigInput = input.headers.get("signature-input");
  const sig = input.headers.get("signature");
  if (!digestHeader || !sigInput || !sig) {
    const missing = [
      !digestHeader && "Content-Digest",
      !sigInput && "Signature-Input",
      !sig && "Signature",
    ].filter(Boolean);
    return { ok: false, code: "signature_missing", message: `missing header(s): ${missing.join(", ")}` };
  }
  const params = parseSignatureInput(sigInput);
  if (!params) {
    return {
      ok: false,
      code: "signature_malformed",
      message:
        'Signature-Input must be mtor=("@method" "@target-uri" "content-digest");created=…;nonce="…";keyid="…";alg="hmac-sha256"',
    };
  }
  if (params.components.join(" ") !== SIGNED_COMPONENTS.join(" ")) {
    return {
      ok: false,
      code: "signature_malformed",
      message: 'the signed components must be exactly ("@method" "@target-uri" "content-digest")',
    };
  }
  if (params.alg !== "hmac-sha256") {
    return { ok: false, code: "signature_malformed", message: 'alg must be "hmac-sha256"' };
  }
  if (params.nonce.length < MIN_NONCE_LENGTH) {
    return {
      ok: false,
      code: "signature_malformed",
      message: `nonce must be at least ${MIN_NONCE_LENGTH} characters`,
    };
  }
  const sigMatch = /^mtor=:([A-Za-z0-9+/=]+):$/.exec(sig.trim());
  const mac = sigMatch ? fromBase64(sigMatch[1]) : null;
  if (!mac) {
    return { ok: false, code: "signature_malformed", message: "Signature must be mtor=:<base64>:" };
  }
  const secret = input.keys.get(params.keyid);
  if (secret === undefined) {
    return { ok: false, code: "unknown_key", message: `unknown keyid ${JSON.stringify(params.keyid)}` };
  }
  const stale = input.now === null ? null : checkCreated(params.created, input.now);
  if (stale) return stale;
  const expectedDigest = await contentDigest(input.body);
  // Both sides are public, so a plain comparison leaks nothing secret.
  if (digestHeader.trim() !== expectedDigest) {
    return { ok: false, code: "digest_mismatch", message: "Content-Digest does not match the body" };
  }
  const base = signatureBase(input.method, input.url, digestHeader.trim(), params);
  // subtle.verify compares in constant time.
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), mac, enc.encode(base));
  if (!valid) return { ok: false, code: "bad_signature", message: "signature does not verify" };
  return { ok: true, keyid: params.keyid, nonce: params.nonce, created: params.created };
}

/** Parses `keyid:secret,keyid:secret` (EXECUTOR_KEYS). Blank entries are ignored. */
export function parseExecutorKeys(value: string | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  for (const entry of (value ?? "").split(",")) {
    const trimmed = entry.trim();
    if (!trimmed) continue;
    const i = trimmed.indexOf(":");
    if (i <= 0 || i === trimmed.length - 1) continue;
    keys.set(trimmed.slice(0, i), trimmed.slice(i + 1));
  }
  return keys;
}
