// Operator auth: `Authorization: Bearer <token>` against OPERATOR_TOKENS (name:token:role),
// compared in constant time; no tokens configured means every request is refused.
import { createMiddleware } from "hono/factory";
import { type AppEnv, type Operator, ROLES, type Role } from "../app-env";
import { ApiError } from "../errors";

interface TokenEntry extends Operator {
  token: string;
}

export function parseOperatorTokens(value: string | undefined): TokenEntry[] {
  const out: TokenEntry[] = [];
  for (const entry of (value ?? "").split(",")) {
    const parts = entry.trim().split(":");
    if (parts.length !== 3) continue;
    const [name, token, role] = parts.map((p) => p.trim());
    if (!name || !token || !(ROLES as readonly string[]).includes(role)) continue;
    out.push({ name, token, role: role as Role });
  }
  return out;
}

const enc = new TextEncoder();

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", enc.encode(text));
}

/** Compares fixed-length digests so neither length nor content leaks through timing. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([digest(a), digest(b)]);
  return crypto.subtle.timingSafeEqual(da, db);
}

export async function findOperator(
  header: string | undefined,
  tokens: TokenEntry[],
): Promise<Operator | null> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) return null;
  let found: Operator | null = null;
  // Every entry is compared, so the position of a match does not show in the timing.
  for (const t of tokens) {
    if ((await sameSecret(m[1], t.token)) && !found) found = { name: t.name, role: t.role };
  }
  return found;
}

const rank = (r: Role) => ROLES.indexOf(r);

/** Requires an operator token with at least `role`. */
export const operator = (role: Role) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const tokens = parseOperatorTokens(c.env.OPERATOR_TOKENS);
    if (tokens.length === 0) {
      throw new ApiError(
        401,
        "unauthorized",
        "no operator tokens are configured (OPERATOR_TOKENS); every request is refused",
      );
    }
    const header = c.req.header("authorization");
    if (!header) {
      throw new ApiError(401, "unauthorized", "missing Authorization: Bearer <token>");
    }
    const who = await findOperator(header, tokens);
    if (!who) throw new ApiError(401, "unauthorized", "the bearer token is not valid");
    if (rank(who.role) < rank(role)) {
      throw new ApiError(403, "forbidden", `this needs the ${role} role; token ${who.name} has ${who.role}`, {
        required: role,
        role: who.role,
      });
    }
    c.set("operator", who);
    await next();
  });
