// The dashboard's login: the operator token, entered once, kept in an HttpOnly; Secure;
// SameSite=Strict cookie. Every form carries a CSRF token derived from the session's token,
// and every POST must come from this origin.
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";

export const SESSION_COOKIE = "mtor_session";
const CSRF_LABEL = "mtor dashboard csrf v1";

export function sessionToken(c: Context): string | undefined {
  const v = getCookie(c, SESSION_COOKIE);
  return v && v.length <= 512 ? v : undefined;
}

export function startSession(c: Context, token: string): void {
  setCookie(c, SESSION_COOKIE, token, {
    path: "/",
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    maxAge: 30 * 24 * 3600,
  });
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true, httpOnly: true, sameSite: "Strict" });
}

/** The CSRF token bound to a session: HMAC of a fixed label keyed by the session's token. */
export async function csrfFor(token: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(token),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(CSRF_LABEL)));
  let s = "";
  for (const b of mac) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function sameBytes(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

/**
 * A POST is accepted only from this origin: `Origin` (or, without it, `Sec-Fetch-Site`) must say
 * so. Browsers send one or the other on every form POST.
 */
export function sameOrigin(c: Context): boolean {
  const origin = c.req.header("origin");
  if (origin) return origin === new URL(c.req.url).origin;
  const site = c.req.header("sec-fetch-site");
  if (site) return site === "same-origin" || site === "none";
  return false;
}

export async function csrfValid(token: string, submitted: unknown): Promise<boolean> {
  if (typeof submitted !== "string" || submitted === "") return false;
  return sameBytes(await csrfFor(token), submitted);
}
