// Path allowlists for `out_of_scope`: `src/` is a prefix, `src` a file or a directory,
// `src/**/*.ts` a glob (`*` within one segment, `**` across segments).

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
  if (/[*?[]/.test(e)) return globToRegExp(e).test(path);
  if (e.endsWith("/")) return path.startsWith(e);
  return path === e || path.startsWith(`${e}/`);
}

export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (glob[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  // A glob naming a directory covers what is under it.
  return new RegExp(`^${re}(?:/.*)?$`);
}
