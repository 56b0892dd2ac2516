// The `protected_branch_touched` gate: any ref other than the run's own branch created, moved
// or deleted during the run, or a head that is the default branch itself.
import { gitRaw } from "./git";
import type { Finding, RefSnapshot } from "./types";

function toMap(refs: RefSnapshot): Map<string, string> {
  return refs instanceof Map ? refs : new Map(Object.entries(refs));
}

const short = (sha: string) => sha.slice(0, 7);

export function compareRefs(before: RefSnapshot, after: RefSnapshot, runRef?: string): Finding[] {
  const b = toMap(before);
  const a = toMap(after);
  const findings: Finding[] = [];
  const names = [...new Set([...b.keys(), ...a.keys()])].sort();
  for (const name of names) {
    if (name === runRef) continue;
    const was = b.get(name);
    const now = a.get(name);
    if (was === now) continue;
    const change = was === undefined ? "created" : now === undefined ? "deleted" : "moved";
    let detail: string;
    if (was === undefined) detail = `created ref ${name} at ${short(now ?? "")}`;
    else if (now === undefined) detail = `deleted ref ${name} (was ${short(was)})`;
    else detail = `moved ref ${name} from ${short(was)} to ${short(now)}`;
    findings.push({
      gate: "protected_branch_touched",
      detail,
      facts: { kind: "ref_changed", ref: name, change },
    });
  }
  return findings;
}

/** The names the repository's default branch may have: origin's HEAD, a bare HEAD, main, master. */
export async function defaultBranches(repoDir: string): Promise<Set<string>> {
  const names = new Set<string>();
  const origin = await gitRaw(repoDir, ["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"]);
  if (origin.code === 0) names.add(origin.stdout.trim().replace(/^refs\/remotes\/origin\//, ""));
  const bare = await gitRaw(repoDir, ["rev-parse", "--is-bare-repository"]);
  if (bare.stdout.trim() === "true") {
    const head = await gitRaw(repoDir, ["symbolic-ref", "--quiet", "HEAD"]);
    if (head.code === 0) names.add(head.stdout.trim().replace(/^refs\/heads\//, ""));
  }
  if (names.size === 0) {
    names.add("main");
    names.add("master");
  }
  return names;
}

/** Flags a head (or run branch) that is the default branch: the change must live on its own branch. */
export async function checkDefaultBranch(repoDir: string, head: string, runRef?: string): Promise<Finding[]> {
  const defaults = await defaultBranches(repoDir);
  const full = runRef ?? (await gitRaw(repoDir, ["rev-parse", "--symbolic-full-name", head])).stdout.trim();
  const m = /^refs\/heads\/(.+)$/.exec(full);
  if (m && defaults.has(m[1])) {
    return [
      {
        gate: "protected_branch_touched",
        detail: `the change is on the default branch ${m[1]}, not on a branch of its own`,
        facts: { kind: "on_default_branch", branch: m[1] },
      },
    ];
  }
  return [];
}
