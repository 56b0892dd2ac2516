// Reading a unified diff (`git diff`) into per-file sections, for the dashboard's spec page and
// `mtor show --diff`: each file with its +/- counts and its lines sorted into kinds to colour.

export type PatchLineKind = "meta" | "hunk" | "add" | "del" | "context";

export interface PatchLine {
  kind: PatchLineKind;
  text: string;
}

export interface PatchFile {
  /** The path after the change (before it, for a deleted file). */
  name: string;
  added: number;
  removed: number;
  lines: PatchLine[];
}

/** The path a `diff --git a/X b/Y` header names, as a fallback when no `---`/`+++` line follows (a binary file, a mode change). */
function headerName(line: string): string {
  const rest = line.slice("diff --git ".length);
  const m = / b\/(.*)$/.exec(rest);
  return m ? m[1] : rest;
}

/** Splits a unified diff into files. Text before the first file header is kept as a file named "". */
export function parsePatch(text: string): PatchFile[] {
  const files: PatchFile[] = [];
  let file: PatchFile | undefined;
  let inHunk = false;
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    if (line.startsWith("diff --git ")) {
      file = { name: headerName(line), added: 0, removed: 0, lines: [{ kind: "meta", text: line }] };
      files.push(file);
      inHunk = false;
      continue;
    }
    if (!file) {
      file = { name: "", added: 0, removed: 0, lines: [] };
      files.push(file);
    }
    if (line.startsWith("@@")) {
      inHunk = true;
      file.lines.push({ kind: "hunk", text: line });
    } else if (!inHunk) {
      if (line.startsWith("+++ ") && line !== "+++ /dev/null") file.name = line.slice(4).replace(/^b\//, "");
      else if (line.startsWith("--- ") && line !== "--- /dev/null" && !file.name)
        file.name = line.slice(4).replace(/^a\//, "");
      file.lines.push({ kind: "meta", text: line });
    } else if (line.startsWith("+")) {
      file.added++;
      file.lines.push({ kind: "add", text: line });
    } else if (line.startsWith("-")) {
      file.removed++;
      file.lines.push({ kind: "del", text: line });
    } else if (line.startsWith("\\")) {
      file.lines.push({ kind: "meta", text: line });
    } else {
      file.lines.push({ kind: "context", text: line });
    }
  }
  return files;
}

/** "12.3 KiB" for a byte count. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}
