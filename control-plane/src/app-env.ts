// The Hono environment shared by every router: bindings and per-request variables.
import type { DurableObject } from "cloudflare:workers";
import type { Fleet } from "./fleet/fleet";
import type { Signer } from "./fleet/nonces";

export interface Operator {
  name: string;
  role: Role;
}

export const ROLES = ["read", "dispatch", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface AppEnv {
  Bindings: Env;
  Variables: {
    operator: Operator;
    /** The verified signature of an executor request. */
    signer: Signer;
    /** The request body, read once under the size limit. */
    rawBody: Uint8Array;
    /**
     * Set only by the test build, whose Fleet checks a signature's `created` against the clock
     * tests pin; everywhere else the Worker checks it against real time.
     */
    signatureTimeInFleet: boolean;
  };
}

/** The Fleet's RPC surface as the Worker calls it (one Fleet per deployment). */
export type FleetRpc = Pick<Fleet, Exclude<keyof Fleet, keyof DurableObject>>;

export function fleetOf(env: Env): FleetRpc {
  // The stub's generated RPC types blur the Result unions; the methods are the class's own.
  return env.FLEET.get(env.FLEET.idFromName("fleet")) as unknown as FleetRpc;
}
