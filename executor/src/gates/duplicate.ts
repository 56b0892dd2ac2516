// The `duplicate` gate: the change equals another spec's recent branch (same patch id), or it
// is already on base (its patch id, or every commit's, is in base's history since the merge
// base, or merging it into base changes nothing).
import type { Change } from "./change";
import { commitPatchIds, git, gitRaw } from "./git";
import type { Finding } from "./types";

export interface DuplicateInput {
  patchId?: string;
  recentPatchIds?: { spec_id: string; patch_id: string }[];
  specId?: string;
}

export async function checkDuplicate(ch: Change, input: DuplicateInput): Promise<Finding[]> {
  const { patchId } = input;
  if (!patchId) return [];
  const other = (input.recentPatchIds ?? []).find(
    (r) => r.patch_id === patchId && r.spec_id !== input.specId,
  );
  if (other) {
    return [
      {
        gate: "duplicate",
        detail: `the change is identical to spec ${other.spec_id}'s branch (patch id ${patchId.slice(0, 12)})`,
        facts: { kind: "same_as_spec", spec_id: other.spec_id },
      },
    ];
  }
  if (ch.baseSha === ch.mergeBase) return []; // base has nothing the branch lacks
  const onBase = await commitPatchIds(ch.repoDir, `${ch.mergeBase}..${ch.baseSha}`);
  const baseByPid = new Map<string, string>();
  for (const [sha, pid] of onBase) if (!baseByPid.has(pid)) baseByPid.set(pid, sha);
  const base = /^[0-9a-f]{40}$/i.test(ch.baseRef) ? ch.baseRef.slice(0, 7) : ch.baseRef;

  const same = baseByPid.get(patchId);
  if (same) {
    return [
      {
        gate: "duplicate",
        detail: `the change is already on ${base} as ${await describe(ch.repoDir, same)}`,
        facts: { kind: "on_base", base },
      },
    ];
  }
  const mine = await commitPatchIds(ch.repoDir, `${ch.mergeBase}..${ch.headSha}`);
  if (mine.size > 0 && [...mine.values()].every((pid) => baseByPid.has(pid))) {
    const first = baseByPid.get([...mine.values()][0]) ?? "";
    return [
      {
        gate: "duplicate",
        detail: `every commit of the change is already on ${base} (e.g. ${await describe(ch.repoDir, first)})`,
        facts: { kind: "on_base", base },
      },
    ];
  }
  // Split or squashed differently but the same in sum: merging it into base changes nothing.
  const merged = await gitRaw(ch.repoDir, [
    "merge-tree",
    "--write-tree",
    "--no-messages",
    ch.baseSha,
    ch.headSha,
  ]);
  if (merged.code === 0) {
    const tree = merged.stdout.trim().split("\n")[0];
    const baseTree = (await git(ch.repoDir, ["rev-parse", `${ch.baseSha}^{tree}`])).trim();
    if (tree === baseTree) {
      return [
        {
          gate: "duplicate",
          detail: `the change is already on ${base}: merging it into ${base} changes nothing`,
          facts: { kind: "on_base", base },
        },
      ];
    }
  }
  return [];
}

async function describe(repoDir: string, sha: string): Promise<string> {
  const r = await gitRaw(repoDir, ["log", "-1", "--format=%h %s", sha]);
  const [h, ...subject] = r.stdout.trim().split(" ");
  const s = subject.join(" ");
  return `commit ${h} "${s.length > 60 ? `${s.slice(0, 57)}...` : s}"`;
}
