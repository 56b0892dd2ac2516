// The Fleet's drizzle handle and the dependencies every piece of Fleet logic takes.
import * as fleetTables from "@mtor/schema/tables/fleet";
import * as historyTables from "@mtor/schema/tables/history";
import * as outboxTables from "@mtor/schema/tables/outbox";
import * as securityTables from "@mtor/schema/tables/security";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import type { SpendLedger } from "./spend";
import type { FleetTimings } from "./timings";

export const tables = { ...fleetTables, ...historyTables, ...outboxTables, ...securityTables };
export type Db = DrizzleSqliteDODatabase<typeof tables>;

export interface Deps {
  db: Db;
  /** Unix ms from the Fleet's clock. */
  now: () => number;
  /** A number in [0, 1) for jitter; injected so tests can fix it. */
  random: () => number;
  /** Lease, backoff and breaker timings; the defaults when absent. */
  timings?: FleetTimings;
  /** Tonight's run costs in memory: every charge goes through it, the budget hold reads it. */
  spend: SpendLedger;
}
