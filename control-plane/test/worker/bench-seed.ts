// Benchmarks only: bulk SQL that fills the Fleet with queued copies of one spec and with finished
// history. Only the test build's Fleet (test-fleet.ts) reaches it; no deployment bundles it.

export interface BenchSeedInput {
  template?: string;
  queued?: number;
  history?: number;
}

/**
 * Copies the spec `template` as `queued` new queued specs, and writes `history` finished specs
 * with one run each. Returns how many were queued and how many specs there are now.
 */
export function benchSeed(
  sql: SqlStorage,
  now: number,
  input: BenchSeedInput,
): { queued: number; specs: number } {
  const tag = `${now.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const history = Math.max(0, Math.floor(input.history ?? 0));
  const queued = Math.max(0, Math.floor(input.queued ?? 0));
  if (history > 0) {
    const old = now - 30 * 24 * 3600_000;
    sql.exec(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${history})
       INSERT INTO specs (id, title, repo, provider, priority, status, attempt, max_attempt, spec, dedup_key, created_at, updated_at, outcome)
       SELECT 'h${tag}' || i, 'history ' || i, 'bench', 'bench-old', 0,
              CASE i % 4 WHEN 0 THEN 'approved' WHEN 1 THEN 'declined' WHEN 2 THEN 'dead' ELSE 'rejected' END,
              1, 1, '{}', 'kh${tag}' || i, ${old} + i, ${old} + i, 'passed' FROM n`,
    );
    sql.exec(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${history})
       INSERT INTO runs (id, spec_id, attempt, executor_id, provider, status, lease_token, lease_expires_at, gates, claimed_at, finished_at, outcome, flags)
       SELECT 'rh${tag}' || i, 'h${tag}' || i, 1, 'bench-old', 'bench-old', 'finished', 't', ${old} + i, '{}', ${old} + i, ${old} + i + 1000, 'passed', '[]' FROM n`,
    );
  }
  if (queued > 0 && input.template) {
    // Copies are fresh queued specs whatever became of the template since it was dispatched:
    // what it is comes from the template, its state is new, and other columns take their default.
    const fresh: Record<string, string> = {
      id: `'q${tag}' || i`,
      dedup_key: `'kq${tag}' || i`,
      created_at: `${now} + i`,
      updated_at: `${now} + i`,
      status: "'queued'",
      attempt: "0",
    };
    for (const c of [
      "title",
      "repo",
      "provider",
      "priority",
      "max_attempt",
      "spec",
      "warnings",
      "created_by",
    ])
      fresh[c] = c;
    const cols = Object.keys(fresh);
    sql.exec(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${queued})
       INSERT INTO specs (${cols.join(", ")}) SELECT ${cols.map((c) => fresh[c]).join(", ")} FROM n, specs WHERE specs.id = ?`,
      input.template,
    );
  }
  const specs = sql.exec("SELECT count(*) AS n FROM specs").one().n as number;
  return { queued: queued > 0 && input.template ? queued : 0, specs };
}
