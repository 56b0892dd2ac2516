// Watches a process tree from /proc, so a test can prove nothing it started outlived it.
import { readdirSync, readFileSync } from "node:fs";

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses; fields resume after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(rest[1]);
  } catch {
    return null;
  }
}

function commandOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
  } catch {
    return null;
  }
}

function stateOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return null;
  }
}

/** Every live descendant of `root`, with its command line. */
export function descendants(root: number): Map<number, string> {
  const parents = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentOf(Number(name));
    if (ppid !== null) parents.set(Number(name), ppid);
  }
  const out = new Map<number, string>();
  let frontier = [root];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const [pid, ppid] of parents) {
      if (frontier.includes(ppid) && !out.has(pid)) {
        out.set(pid, commandOf(pid) ?? "?");
        next.push(pid);
      }
    }
    frontier = next;
  }
  return out;
}

/** Samples the tree every `everyMs` until stopped; returns everything it ever saw. */
export function trackTree(root: number, everyMs = 250): { stop(): Map<number, string> } {
  const seen = new Map<number, string>();
  const sample = () => {
    for (const [pid, cmd] of descendants(root)) if (!seen.has(pid)) seen.set(pid, cmd);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return seen;
    },
  };
}

/** Those of `seen` still alive with the same command line (zombies count as gone). */
export function survivors(seen: Map<number, string>): string[] {
  const left: string[] = [];
  for (const [pid, cmd] of seen) {
    const now = commandOf(pid);
    if (now === null || now !== cmd) continue;
    if (stateOf(pid) === "Z") continue;
    left.push(`${pid} ${cmd}`);
  }
  return left;
}

/** Ctrl-C to a job's whole process group, as a shell does; quiet when it is already gone. */
export function interruptGroup(pid: number | undefined): void {
  try {
    process.kill(-(pid as number), "SIGINT");
  } catch {
    // already gone
  }
}

/** After Ctrl-C: the exit code and whatever of the tree is still alive. */
export async function afterInterrupt(
  exited: Promise<number | null>,
  tree: { stop(): Map<number, string> },
): Promise<{ code: number | null; left: string[] }> {
  const code = await exited;
  return { code, left: survivors(tree.stop()) };
}
