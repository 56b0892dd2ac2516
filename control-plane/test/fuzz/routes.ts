// Every route the control plane serves, with who may call it: the table the fuzz and security
// tests walk, so a new route without an entry here shows up as a gap in review.
import type { Role } from "../../src/app-env";

export type Area = "public" | "operator" | "executor" | "dashboard" | "action";

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path template; `:name` segments are filled per request. */
  path: string;
  area: Area;
  /** The least operator role the route needs (operator routes). */
  role?: Role;
}

const op = (method: Route["method"], path: string, role: Role): Route => ({
  method,
  path,
  area: "operator",
  role,
});
const dash = (method: Route["method"], path: string): Route => ({ method, path, area: "dashboard" });

export const ROUTES: Route[] = [
  { method: "GET", path: "/healthz", area: "public" },
  { method: "GET", path: "/v1/openapi.json", area: "public" },
  { method: "GET", path: "/docs", area: "public" },
  op("GET", "/v1/settings", "read"),
  op("PUT", "/v1/settings", "admin"),

  op("POST", "/v1/specs", "dispatch"),
  op("GET", "/v1/specs", "read"),
  op("GET", "/v1/specs/:spec", "read"),
  op("POST", "/v1/specs/:spec/kill", "dispatch"),
  op("POST", "/v1/specs/:spec/retry", "dispatch"),
  op("POST", "/v1/specs/:spec/approve", "dispatch"),
  op("POST", "/v1/specs/:spec/decline", "dispatch"),
  op("GET", "/v1/status", "read"),
  op("POST", "/v1/freeze", "admin"),
  op("POST", "/v1/thaw", "admin"),
  op("GET", "/v1/providers", "read"),
  op("PUT", "/v1/providers/:provider", "admin"),
  op("DELETE", "/v1/providers/:provider", "admin"),
  op("POST", "/v1/providers/:provider/freeze", "admin"),
  op("POST", "/v1/providers/:provider/thaw", "admin"),
  op("GET", "/v1/gates", "read"),
  op("PUT", "/v1/gates/:gate", "admin"),
  op("GET", "/v1/executors", "read"),
  op("POST", "/v1/executors/:executor/drain", "admin"),
  op("POST", "/v1/executors/:executor/undrain", "admin"),
  op("GET", "/v1/webhooks", "read"),
  op("POST", "/v1/webhooks", "admin"),
  op("DELETE", "/v1/webhooks/:webhook", "admin"),
  op("GET", "/v1/webhooks/:webhook/deliveries", "read"),
  op("POST", "/v1/webhooks/:webhook/test", "admin"),
  op("POST", "/v1/deliveries/:delivery/redeliver", "admin"),
  op("GET", "/v1/report", "read"),

  { method: "POST", path: "/v1/executor/claim", area: "executor" },
  { method: "POST", path: "/v1/executor/runs/:run/heartbeat", area: "executor" },
  { method: "POST", path: "/v1/executor/runs/:run/verdict", area: "executor" },

  dash("GET", "/"),
  dash("GET", "/login"),
  dash("POST", "/login"),
  dash("POST", "/logout"),
  dash("GET", "/fragments/queue"),
  dash("GET", "/specs/:spec"),
  dash("GET", "/fragments/specs/:spec"),
  dash("POST", "/specs/:spec/approve"),
  dash("POST", "/specs/:spec/decline"),
  dash("POST", "/specs/:spec/retry"),
  dash("POST", "/specs/:spec/kill"),
  dash("GET", "/dispatch"),
  dash("POST", "/dispatch"),
  dash("GET", "/fleet"),
  dash("POST", "/fleet/freeze"),
  dash("POST", "/fleet/thaw"),
  dash("POST", "/fleet/providers/:provider/freeze"),
  dash("POST", "/fleet/providers/:provider/thaw"),
  dash("POST", "/fleet/providers/:provider/slots"),
  dash("POST", "/fleet/executors/:executor/drain"),
  dash("POST", "/fleet/executors/:executor/undrain"),
  dash("POST", "/fleet/settings"),
  dash("GET", "/gates"),
  dash("POST", "/gates/:gate"),
  dash("GET", "/report"),

  { method: "GET", path: "/actions/:token", area: "action" },
  { method: "POST", path: "/actions/:token", area: "action" },
];

export const OPERATOR_ROUTES = ROUTES.filter((r) => r.area === "operator");
export const EXECUTOR_ROUTES = ROUTES.filter((r) => r.area === "executor");
export const DASHBOARD_ROUTES = ROUTES.filter((r) => r.area === "dashboard");
/** Dashboard routes that act (every POST but the login itself, which has no session yet). */
export const DASHBOARD_ACTIONS = DASHBOARD_ROUTES.filter((r) => r.method === "POST" && r.path !== "/login");
/** Dashboard pages behind the login. */
export const DASHBOARD_PAGES = DASHBOARD_ROUTES.filter((r) => r.method === "GET" && r.path !== "/login");

export type Params = Record<string, string>;

/** encodeURIComponent that also takes lone surrogates (as U+FFFD) instead of throwing. */
export function encode(s: string): string {
  return encodeURIComponent(
    s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD"),
  );
}

export function fill(path: string, params: Params): string {
  return path.replace(/:([a-z]+)/g, (_m, name: string) => encode(params[name] ?? `unknown-${name}`));
}

/** Whether every parameter the route uses is a plain id, so the request reaches that route. */
export function reachesRoute(route: Route, params: Params): boolean {
  return (route.path.match(/:[a-z]+/g) ?? []).every((p) =>
    /^[A-Za-z0-9_-]{1,32}$/.test(params[p.slice(1)] ?? ""),
  );
}

export const ROLE_RANK: Record<Role, number> = { read: 0, dispatch: 1, admin: 2 };
