// Fleet-wide switches (global freeze) and the gate settings sent with each claim.
import {
  DEFAULT_GATES,
  GATE_NAMES,
  type GateName,
  type GateSetting,
  type GateSettings,
} from "@mtor/schema/gates";
import { gates, settings } from "@mtor/schema/tables/fleet";
import { eq } from "drizzle-orm";
import type { Db } from "../core/db";
import { beginPeriod, endPeriod } from "./history";

export function getSetting<T>(db: Db, key: string, fallback: T): T {
  const row = db.select().from(settings).where(eq(settings.key, key)).get();
  return row ? (row.value as T) : fallback;
}

export function putSetting(db: Db, key: string, value: unknown): void {
  db.insert(settings)
    .values({ key, value })
    .onConflictDoUpdate({ target: settings.key, set: { value } })
    .run();
}

export const isFrozen = (db: Db): boolean => getSetting(db, "frozen", false);
/** Freezes or thaws the whole fleet, and notes the period for the report's timeline. */
export function setFrozen(db: Db, frozen: boolean, now: number): void {
  putSetting(db, "frozen", frozen);
  if (frozen) beginPeriod(db, "frozen", null, now);
  else endPeriod(db, "frozen", null, now);
}

/** Every gate's setting: stored overrides over the defaults. */
export function gateSettings(db: Db): GateSettings {
  const out: GateSettings = { ...DEFAULT_GATES };
  for (const row of db.select().from(gates).all()) {
    if ((GATE_NAMES as readonly string[]).includes(row.name)) {
      out[row.name as GateName] = { action: row.action as GateSetting["action"], retry: row.retry };
    }
  }
  return out;
}

export function setGate(
  db: Db,
  name: GateName,
  update: { action: GateSetting["action"]; retry?: boolean },
): GateSetting {
  const current = gateSettings(db)[name];
  const next: GateSetting = { action: update.action, retry: update.retry ?? current.retry };
  db.insert(gates)
    .values({ name, ...next })
    .onConflictDoUpdate({ target: gates.name, set: next })
    .run();
  return next;
}
