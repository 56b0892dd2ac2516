// Signed phone-action links: one spec, the run the notification was about, one action, a nonce
// and an expiry, bound together by an HMAC-SHA256 with ACTION_SECRET. The token travels in the
// URL, so a phone needs no API token. The run binds the link to that attempt and its branch:
// once the spec has moved on to another run, the link no longer acts. A budget link ("raise",
// "resume") names the budget and the reach it was sent for in place of the spec and the run.
import { randomBase36 } from "../core/ids";

export const PHONE_ACTIONS = ["approve", "decline", "retry", "raise", "resume"] as const;
export type PhoneAction = (typeof PHONE_ACTIONS)[number];
/** The actions of a `budget.reached` notification: they act on the budget, not on a spec. */
export const BUDGET_ACTIONS = ["raise", "resume"] as const;
export type BudgetAction = (typeof BUDGET_ACTIONS)[number];
export const isBudgetAction = (a: PhoneAction): a is BudgetAction =>
  (BUDGET_ACTIONS as readonly string[]).includes(a);
/**
 * A budget link's subject in place of a spec id; its run id is the reach it was sent for, so it
 * acts only while that hold lasts.
 */
export const BUDGET_SUBJECT = "budget";

/** Links stay valid for 24 h after the notification that carries them was rendered. */
export const ACTION_LINK_TTL_MS = 24 * 60 * 60 * 1000;

export interface ActionClaims {
  specId: string;
  /** The run whose notification carried the link; for a budget link, the reach it was sent for. */
  runId: string;
  action: PhoneAction;
  /** Unix ms. */
  expiresAt: number;
  nonce: string;
}

export type TokenCheck =
  | { ok: true; claims: ActionClaims }
  | { ok: false; reason: "malformed" | "tampered" | "expired"; claims?: ActionClaims };

const encoder = new TextEncoder();

async function hmac(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`mtor-action-v1:${text}`)));
  let bin = "";
  for (const b of mac) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export async function signActionToken(secret: string, claims: ActionClaims): Promise<string> {
  const exp = Math.floor(claims.expiresAt / 1000).toString(36);
  const payload = `${claims.specId}.${claims.action}.${exp}.${claims.nonce}.${claims.runId}`;
  return `${payload}.${await hmac(secret, payload)}`;
}

export async function newActionToken(
  secret: string,
  specId: string,
  runId: string,
  action: PhoneAction,
  now: number,
) {
  return signActionToken(secret, {
    specId,
    runId,
    action,
    expiresAt: now + ACTION_LINK_TTL_MS,
    nonce: randomBase36(20),
  });
}

/** Checks a token's shape, signature and expiry. Whether it was used is the Fleet's to say. */
export async function verifyActionToken(secret: string, token: string, now: number): Promise<TokenCheck> {
  const parts = token.split(".");
  if (parts.length !== 6) return { ok: false, reason: "malformed" };
  const [specId, action, exp, nonce, runId, sig] = parts;
  if (
    !/^[a-z0-9]{1,40}$/.test(specId) ||
    !/^[a-z0-9]{8,64}$/.test(nonce) ||
    !/^[a-z0-9]{1,12}$/.test(exp) ||
    !/^[a-z0-9]{1,40}$/.test(runId)
  ) {
    return { ok: false, reason: "malformed" };
  }
  if (!(PHONE_ACTIONS as readonly string[]).includes(action)) return { ok: false, reason: "malformed" };
  if (isBudgetAction(action as PhoneAction) !== (specId === BUDGET_SUBJECT))
    return { ok: false, reason: "malformed" };
  const expected = await hmac(secret, `${specId}.${action}.${exp}.${nonce}.${runId}`);
  if (!constantTimeEqual(expected, sig)) return { ok: false, reason: "tampered" };
  const claims: ActionClaims = {
    specId,
    runId,
    action: action as PhoneAction,
    expiresAt: Number.parseInt(exp, 36) * 1000,
    nonce,
  };
  if (claims.expiresAt <= now) return { ok: false, reason: "expired", claims };
  return { ok: true, claims };
}

export function actionUrl(base: string, token: string): string {
  return `${base.replace(/\/+$/, "")}/actions/${token}`;
}
