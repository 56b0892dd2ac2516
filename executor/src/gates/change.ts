// Loads what the gates look at once: the commits, the changed files with their text at the
// merge base and at head, and the added line numbers.
import { addedLines, type ChangedFile, changedFiles, GitError, git, readMany, resolveCommit } from "./git";

export interface Change {
  repoDir: string;
  baseRef: string;
  headRef: string;
  baseSha: string;
  headSha: string;
  mergeBase: string;
  /** Commits on head that base does not have. */
  commits: number;
  files: ChangedFile[];
  /** Text at the merge base, keyed by the base path; null when absent, binary or too large. */
  before: Map<string, string | null>;
  /** Text at head, keyed by the head path. */
  after: Map<string, string | null>;
  added: Map<string, Set<number>>;
}

const MAX_TEXT = 2 * 1024 * 1024;

/** Path of a changed file at the merge base (undefined when the file is new). */
export function basePath(f: ChangedFile): string | undefined {
  if (f.status === "A") return undefined;
  return f.oldPath ?? f.path;
}

/** Path of a changed file at head (undefined when deleted). */
export function headPath(f: ChangedFile): string | undefined {
  return f.status === "D" ? undefined : f.path;
}

export async function loadChange(repoDir: string, baseRef: string, headRef: string): Promise<Change> {
  const [baseSha, headSha] = await Promise.all([
    resolveCommit(repoDir, baseRef),
    resolveCommit(repoDir, headRef),
  ]);
  if (!baseSha)
    throw new GitError(`base ${JSON.stringify(baseRef)} is not a commit in ${repoDir}`, [], "", null);
  if (!headSha)
    throw new GitError(`head ${JSON.stringify(headRef)} is not a commit in ${repoDir}`, [], "", null);
  let mergeBase: string;
  try {
    mergeBase = (await git(repoDir, ["merge-base", baseSha, headSha])).trim();
  } catch {
    throw new GitError(`base ${baseRef} and head ${headRef} share no history`, [], "", null);
  }
  const [count, files, added] = await Promise.all([
    git(repoDir, ["rev-list", "--count", `${baseSha}..${headSha}`]),
    changedFiles(repoDir, mergeBase, headSha),
    addedLines(repoDir, mergeBase, headSha),
  ]);
  const before = new Map<string, string | null>();
  const after = new Map<string, string | null>();
  const wanted: [Map<string, string | null>, string, string][] = [];
  for (const f of files) {
    if (f.binary) continue;
    const bp = basePath(f);
    const hp = headPath(f);
    if (bp !== undefined) wanted.push([before, bp, `${mergeBase}:${bp}`]);
    if (hp !== undefined) wanted.push([after, hp, `${headSha}:${hp}`]);
  }
  const texts = await readMany(
    repoDir,
    wanted.map(([, , spec]) => spec),
    MAX_TEXT,
  );
  for (const [into, path, spec] of wanted) into.set(path, texts.get(spec) ?? null);
  return {
    repoDir,
    baseRef,
    headRef,
    baseSha,
    headSha,
    mergeBase,
    commits: Number(count.trim()),
    files,
    before,
    after,
    added,
  };
}
