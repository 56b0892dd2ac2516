// Path allowlists for `out_of_scope`: `src/` is a prefix, `src` a file or a directory,
// `src/**/*.ts` a glob (`*` within one segment, `**` across segments), matched in time bounded
// by the pattern's length times the path's.
import { compileGlob, isGlob, matchGlob } from "@mtor/schema";

export function inScope(path: string, allow: readonly string[]): boolean {
  const p = normalize(path);
  return allow.some((entry) => matchEntry(p, entry));
}

function normalize(p: string): string {
  return p.replace(/^\.\//, "").replace(/^\/+/, "");
}

export function matchEntry(path: string, entry: string): boolean {
  const e = normalize(entry.trim());
  if (e === "" || e === "." || e === "**") return true;
  if (isGlob(e)) return matchGlob(compileGlob(e), path);
  if (e.endsWith("/")) return path.startsWith(e);
  return path === e || path.startsWith(`${e}/`);
}
