// Recovery after a crash: a claim record is on disk from claim until its verdict is spooled. At
// start-up each leftover record means a run the previous process never finished: its harness
// processes are reaped and a lost_lease verdict is spooled with the old lease token (the control
// plane requeues the spec if the lease still holds, else refuses it as lease_lost).
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type ClaimedRun, ORPHANED_RUN_FAILURE } from "@mtor/schema";
import { runDir, runLabel } from "../engine/activities";
import type { VerdictSpool } from "./spool";

export interface ClaimRecord {
  run: ClaimedRun;
  claimed_at: string;
  pid: number;
}

export class ClaimLedger {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  record(run: ClaimedRun): void {
    const rec: ClaimRecord = { run, claimed_at: new Date().toISOString(), pid: process.pid };
    writeFileSync(this.file(run.run_id), JSON.stringify(rec));
  }

  forget(runId: string): void {
    rmSync(this.file(runId), { force: true });
  }

  leftovers(): ClaimRecord[] {
    const out: ClaimRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(".json")) continue;
      try {
        out.push(JSON.parse(readFileSync(join(this.dir, name), "utf8")) as ClaimRecord);
      } catch {
        rmSync(join(this.dir, name), { force: true });
      }
    }
    return out;
  }

  private file(runId: string): string {
    return join(this.dir, `${runId.replace(/[^A-Za-z0-9._-]/g, "_")}.json`);
  }
}

/** Kills every process whose working directory lies under `dir`, with its process group (Linux /proc). */
export function reapProcessesUnder(dir: string): number[] {
  const killed: number[] = [];
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return killed;
  }
  const ownGroup = processGroupOf(process.pid);
  for (const p of pids) {
    const pid = Number(p);
    if (pid === process.pid) continue;
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${p}/cwd`);
    } catch {
      continue;
    }
    if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
    const pgid = processGroupOf(pid);
    try {
      if (pgid && pgid !== ownGroup && pgid > 1) process.kill(-pgid, "SIGKILL");
      else process.kill(pid, "SIGKILL");
      killed.push(pid);
    } catch {
      // Gone already.
    }
  }
  return killed;
}

function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(rest[2]);
  } catch {
    return undefined;
  }
}

/** Spools a failed verdict for every run a previous process left unfinished. */
export function recoverLeftovers(
  ledger: ClaimLedger,
  spool: VerdictSpool,
  workdir: string,
  log: (line: string) => void,
): number {
  let n = 0;
  const leftovers = ledger.leftovers();
  // A run's harness works in a pooled workspace: whatever still runs there is a leftover too.
  const inPool = leftovers.length > 0 ? reapProcessesUnder(join(workdir, "pool")) : [];
  for (const rec of leftovers) {
    const { run } = rec;
    const dir = runDir(workdir, run);
    const killed = [...reapProcessesUnder(dir), ...inPool.splice(0)];
    // Its directory is kept like a failed run's, and pruned with them (its pooled workspace is
    // removed at start: nothing of it is trusted).
    if (existsSync(dir)) writeFileSync(join(dir, "kept"), `${new Date().toISOString()}\n`);
    if (!spool.has(run.run_id)) {
      spool.write({
        run_id: run.run_id,
        spec_id: run.spec_id,
        attempt: run.attempt,
        verdict: {
          token: run.lease.token,
          outcome: "failed",
          flags: [],
          // A lost lease, not the spec's failure: the control plane requeues it at once and
          // charges no attempt.
          failure: ORPHANED_RUN_FAILURE,
          duration_ms: Math.max(0, Date.now() - Date.parse(rec.claimed_at)),
        },
      });
    }
    log(
      `run ${runLabel(run)} left unfinished by an earlier executor process${killed.length ? `; killed ${killed.length} leftover process(es)` : ""}; reporting it failed`,
    );
    ledger.forget(run.run_id);
    n++;
  }
  return n;
}
