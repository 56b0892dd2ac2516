// Whether any executor serves what a spec needs. A spec for a repo or provider no executor has
// advertised would sit queued forever in silence; dispatch warns, `show` says so while it is
// queued, and the monitor flags it as stuck.
import { executors } from "@mtor/schema/tables/fleet";
import { gte } from "drizzle-orm";
import type { Db } from "../core/db";

/** An executor not seen for this long no longer counts as serving anything. */
export const SERVING_WINDOW_MS = 24 * 3600_000;

export interface Advertised {
  repos: string[];
  providers: string[];
}

/** What the executors seen lately advertise. Executors are few: one row per box. */
export function advertised(db: Db, now: number): Advertised[] {
  return db
    .select({ repos: executors.repos, providers: executors.providers })
    .from(executors)
    .where(gte(executors.lastSeenAt, now - SERVING_WINDOW_MS))
    .all();
}

/**
 * Why no executor can run a spec for `repo` on `provider` ("any" or a name), or null when one
 * can. Phrased for the person who dispatched it.
 */
export function unservedReason(fleet: Advertised[], repo: string, provider: string): string | null {
  const takes = (e: Advertised) =>
    provider === "any" ? e.providers.length > 0 : e.providers.includes(provider);
  if (fleet.some((e) => e.repos.includes(repo) && takes(e))) return null;
  if (!fleet.some((e) => e.repos.includes(repo))) return `no executor has advertised repo \`${repo}\` yet`;
  if (provider === "any") return `no executor serving repo \`${repo}\` has advertised a provider`;
  if (!fleet.some(takes)) return `no executor has advertised provider \`${provider}\` yet`;
  return `no executor serves both repo \`${repo}\` and provider \`${provider}\``;
}

/** The dispatch warning: the same words, and what happens meanwhile. */
export function unservedWarning(reason: string): string {
  return `not_served: ${reason}; the spec waits in the queue until an executor that serves it claims`;
}
