// Git reads for the gates (commits, changed files, file contents, added lines, patch ids), over
// the one git runner in git/exec.ts.
import { spawn } from "node:child_process";
import { GitError, git, gitEnv, gitPipe, gitRaw } from "../git/exec";

export { GitError, type GitResult, git, gitEnv, gitPipe, gitRaw } from "../git/exec";

/** Resolves a ref to a commit sha, or null when it names no commit. */
export async function resolveCommit(cwd: string, ref: string): Promise<string | null> {
  if (ref.startsWith("-")) return null;
  const r = await gitRaw(cwd, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
  return r.code === 0 ? r.stdout.trim() : null;
}

/** Whether `dir` is inside a git repository (or is a bare one). */
export async function isRepository(dir: string): Promise<boolean> {
  try {
    const r = await gitRaw(dir, ["rev-parse", "--git-dir"]);
    return r.code === 0;
  } catch {
    return false;
  }
}

/**
 * Every ref of the repository: ref name → object id. Worktrees share refs with their main
 * repository, so this sees a commit to `main` made from any worktree.
 */
export async function listRefs(repoDir: string): Promise<Map<string, string>> {
  const out = await git(repoDir, ["for-each-ref", "--format=%(refname)%00%(objectname)"]);
  const refs = new Map<string, string>();
  for (const line of out.split("\n")) {
    if (!line) continue;
    const [name, sha] = line.split("\0");
    if (name && sha) refs.set(name, sha);
  }
  return refs;
}

export type ChangeStatus = "A" | "M" | "D" | "R" | "C" | "T";

export interface ChangedFile {
  status: ChangeStatus;
  /** Path at head (for deletions, the path at base). */
  path: string;
  /** Path at base when renamed or copied. */
  oldPath?: string;
  insertions: number;
  deletions: number;
  binary: boolean;
}

const DIFF_FLAGS = ["--no-ext-diff", "--no-textconv", "--no-color", "-M"];

/** Files changed between two commits, with rename detection and line counts. */
export async function changedFiles(cwd: string, from: string, to: string): Promise<ChangedFile[]> {
  const [ns, num] = await Promise.all([
    git(cwd, ["-c", "core.quotePath=false", "diff", ...DIFF_FLAGS, "--name-status", "-z", from, to]),
    git(cwd, ["-c", "core.quotePath=false", "diff", ...DIFF_FLAGS, "--numstat", "-z", from, to]),
  ]);
  const files: ChangedFile[] = [];
  const parts = ns.split("\0");
  for (let i = 0; i < parts.length; ) {
    const st = parts[i++];
    if (!st) continue;
    const letter = st[0] as ChangeStatus;
    if (letter === "R" || letter === "C") {
      const oldPath = parts[i++];
      const path = parts[i++];
      files.push({ status: letter, path, oldPath, insertions: 0, deletions: 0, binary: false });
    } else {
      const path = parts[i++];
      files.push({ status: letter, path, insertions: 0, deletions: 0, binary: false });
    }
  }
  // numstat -z: "ins\tdel\tpath\0" or, for renames, "ins\tdel\t\0old\0new\0".
  const byPath = new Map(files.map((f) => [f.path, f]));
  const nparts = num.split("\0");
  for (let i = 0; i < nparts.length; ) {
    const head = nparts[i++];
    if (!head) continue;
    const [ins, del, p] = head.split("\t");
    let path = p;
    if (p === "") {
      i++; // old path
      path = nparts[i++];
    }
    const f = byPath.get(path);
    if (!f) continue;
    if (ins === "-" || del === "-") f.binary = true;
    else {
      f.insertions = Number(ins);
      f.deletions = Number(del);
    }
  }
  return files;
}

/** The content of `path` at `commit`, or null when it does not exist there (or is binary). */
export async function readAt(cwd: string, commit: string, path: string): Promise<string | null> {
  const r = await gitRaw(cwd, ["cat-file", "blob", `${commit}:${path}`]);
  if (r.code !== 0) return null;
  if (r.stdout.includes("\0")) return null;
  return r.stdout;
}

/** Whether `path` exists at `commit` (file or directory). */
export async function existsAt(cwd: string, commit: string, path: string): Promise<boolean> {
  const r = await gitRaw(cwd, ["cat-file", "-e", `${commit}:${path.replace(/\/+$/, "")}`]);
  return r.code === 0;
}

/** Line numbers (1-based, at `to`) of the lines added in each file between two commits. */
export async function addedLines(cwd: string, from: string, to: string): Promise<Map<string, Set<number>>> {
  const out = await git(cwd, [
    "-c",
    "core.quotePath=false",
    "diff",
    ...DIFF_FLAGS,
    "-U0",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    from,
    to,
  ]);
  const result = new Map<string, Set<number>>();
  let current: Set<number> | null = null;
  let line = 0;
  for (const raw of out.split("\n")) {
    if (raw.startsWith("diff --git ")) {
      current = null;
      continue;
    }
    if (raw.startsWith("+++ ")) {
      const target = raw.slice(4);
      if (target === "/dev/null") current = null;
      else {
        const path = unquote(target).replace(/^b\//, "");
        current = new Set();
        result.set(path, current);
      }
      continue;
    }
    if (raw.startsWith("--- ")) continue;
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(raw);
    if (hunk) {
      line = Number(hunk[1]);
      continue;
    }
    if (!current) continue;
    if (raw.startsWith("+")) {
      current.add(line);
      line++;
    } else if (raw.startsWith(" ")) {
      line++;
    }
  }
  return result;
}

function unquote(s: string): string {
  if (!s.startsWith('"') || !s.endsWith('"')) return s.replace(/\t$/, "");
  const inner = s.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"));
      continue;
    }
    const n = inner[++i];
    if (/[0-7]/.test(n)) {
      bytes.push(Number.parseInt(inner.slice(i, i + 3), 8));
      i += 2;
    } else bytes.push(({ n: 10, t: 9, '"': 34, "\\": 92 } as Record<string, number>)[n] ?? n.charCodeAt(0));
  }
  return Buffer.from(bytes).toString("utf8");
}

/** `git patch-id --stable` of the net diff between two commits, or undefined when empty. */
export async function netPatchId(cwd: string, from: string, to: string): Promise<string | undefined> {
  const out = await gitPipe(cwd, ["diff", ...DIFF_FLAGS, "--full-index", from, to], ["patch-id", "--stable"]);
  const id = out.trim().split(/\s+/)[0];
  return id || undefined;
}

/** Patch ids of each non-merge commit in `range`: commit sha → patch id. */
export async function commitPatchIds(cwd: string, range: string, max = 300): Promise<Map<string, string>> {
  const out = await gitPipe(
    cwd,
    ["log", "-p", "--no-merges", "--no-ext-diff", "--no-color", "--full-index", `--max-count=${max}`, range],
    ["patch-id", "--stable"],
  );
  const ids = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [pid, sha] = line.trim().split(/\s+/);
    if (pid && sha) ids.set(sha, pid);
  }
  return ids;
}

/**
 * Reads many blobs through one `git cat-file --batch`: `commit:path` → text, or null when the
 * path is absent, not a blob, binary or larger than `maxBytes`.
 */
export function readMany(
  cwd: string,
  specs: string[],
  maxBytes = 2 * 1024 * 1024,
): Promise<Map<string, string | null>> {
  return new Promise((resolve, reject) => {
    const result = new Map<string, string | null>();
    if (specs.length === 0) {
      resolve(result);
      return;
    }
    const child = spawn("git", ["cat-file", "--batch"], {
      cwd,
      env: gitEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const chunks: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.stdin.on("error", () => {});
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) {
        reject(new GitError(`git cat-file failed: ${err.trim()}`, ["cat-file", "--batch"], err, code));
        return;
      }
      const out = Buffer.concat(chunks);
      let pos = 0;
      for (const spec of specs) {
        const nl = out.indexOf(0x0a, pos);
        if (nl < 0) break;
        const header = out.subarray(pos, nl).toString("utf8");
        pos = nl + 1;
        const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
        if (!m) {
          result.set(spec, null); // "<spec> missing" or "ambiguous"
          continue;
        }
        const size = Number(m[2]);
        const body = out.subarray(pos, pos + size);
        pos += size + 1;
        const text = m[1] === "blob" && size <= maxBytes && !body.includes(0) ? body.toString("utf8") : null;
        result.set(spec, text);
      }
      resolve(result);
    });
    child.stdin.end(`${specs.join("\n")}\n`);
  });
}
