// The Fleet's durable state as one comparable string, to prove a refused request changed nothing.
import { env, runInDurableObject } from "cloudflare:test";

/**
 * Tables left out: `nonces` records every correctly signed request (replay protection is
 * bookkeeping, not fleet state), and SQLite's and drizzle's own tables.
 */
const SKIPPED = new Set(["nonces", "__drizzle_migrations", "sqlite_sequence"]);

const stub = () => env.FLEET.get(env.FLEET.idFromName("fleet"));

/** Every row of every Fleet table, in a stable order. */
export async function fleetState(): Promise<string> {
  return runInDurableObject(stub(), (_instance, state) => {
    const sql = state.storage.sql;
    const tables = sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .toArray()
      .map((r) => r.name)
      .filter((n) => !SKIPPED.has(n) && !n.startsWith("_cf_") && !n.startsWith("sqlite_"));
    const out: Record<string, string[]> = {};
    for (const t of tables) {
      out[t] = sql
        .exec(`SELECT * FROM "${t}"`)
        .toArray()
        .map((row) => JSON.stringify(row))
        .sort();
    }
    return JSON.stringify(out);
  });
}

/** Names the tables whose rows differ, for a readable failure. */
export function stateDiff(before: string, after: string): string {
  const a = JSON.parse(before) as Record<string, string[]>;
  const b = JSON.parse(after) as Record<string, string[]>;
  const changed: string[] = [];
  for (const t of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[t] ?? [];
    const y = b[t] ?? [];
    if (JSON.stringify(x) !== JSON.stringify(y)) {
      const added = y.filter((r) => !x.includes(r)).slice(0, 2);
      const removed = x.filter((r) => !y.includes(r)).slice(0, 2);
      changed.push(`${t}: +${JSON.stringify(added)} -${JSON.stringify(removed)}`);
    }
  }
  return changed.join("\n");
}
