// Path globs for a spec's `paths`: `*` within one segment, `?` one character, `[a-z]` / `[!a-z]`
// a class, `**` any number of whole segments. Matching is dynamic programming over segments and
// characters, never a backtracking regular expression, so its cost is bounded by the pattern's
// length times the path's whatever the pattern; validation names what is wrong with a pattern.

type Atom =
  | { t: "lit"; c: string }
  | { t: "any" } // ?
  | { t: "star" } // *
  | { t: "class"; negate: boolean; ranges: [string, string][] };

type Segment = { t: "globstar" } | { t: "atoms"; atoms: Atom[] };

export interface CompiledGlob {
  segments: Segment[];
}

/** Parses one bracket class starting at `[`; returns the atom and the index after `]`. */
function parseClass(s: string, i: number): { atom: Atom; next: number } | { problem: string } | null {
  let j = i + 1;
  let negate = false;
  if (s[j] === "!" || s[j] === "^") {
    negate = true;
    j++;
  }
  const ranges: [string, string][] = [];
  let first = true;
  while (j < s.length && (s[j] !== "]" || first)) {
    first = false;
    let lo = s[j];
    if (lo === "\\" && j + 1 < s.length) lo = s[++j];
    if (lo === "/") return { problem: "a character class cannot contain '/'" };
    if (s[j + 1] === "-" && j + 2 < s.length && s[j + 2] !== "]") {
      let hi = s[j + 2];
      let k = j + 2;
      if (hi === "\\" && k + 1 < s.length) hi = s[++k];
      if (hi < lo) return { problem: `the range ${lo}-${hi} in a character class runs backwards` };
      ranges.push([lo, hi]);
      j = k + 1;
    } else {
      ranges.push([lo, lo]);
      j++;
    }
  }
  if (j >= s.length) return null; // no closing bracket
  return { atom: { t: "class", negate, ranges }, next: j + 1 };
}

function parseSegment(seg: string): { atoms: Atom[] } | { problem: string } {
  const atoms: Atom[] = [];
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === "\\" && i + 1 < seg.length) {
      atoms.push({ t: "lit", c: seg[++i] });
    } else if (c === "*") {
      if (atoms[atoms.length - 1]?.t !== "star") atoms.push({ t: "star" }); // `**` inside a segment is `*`
    } else if (c === "?") {
      atoms.push({ t: "any" });
    } else if (c === "[") {
      const r = parseClass(seg, i);
      if (r === null) return { problem: "a '[' has no closing ']'" };
      if ("problem" in r) return r;
      atoms.push(r.atom);
      i = r.next - 1;
    } else {
      atoms.push({ t: "lit", c });
    }
  }
  return { atoms };
}

/** Splits a pattern into segments, or says what is wrong with it. */
function parse(pattern: string): CompiledGlob | { problem: string } {
  const p = pattern.trim().replace(/^\.\//, "").replace(/^\/+/, "").replace(/\/+$/, "");
  const segments: Segment[] = [];
  if (p === "" || p === ".") return { segments: [{ t: "globstar" }] };
  for (const raw of p.split("/")) {
    if (raw === "") return { problem: "it has an empty path segment ('//')" };
    if (raw === "..") return { problem: "it has a '..' segment; paths are relative to the repository root" };
    if (raw === "**") {
      if (segments[segments.length - 1]?.t !== "globstar") segments.push({ t: "globstar" });
      continue;
    }
    const seg = parseSegment(raw);
    if ("problem" in seg) return seg;
    segments.push({ t: "atoms", atoms: seg.atoms });
  }
  return { segments };
}

/** What is wrong with a `paths` pattern, or null when it is a valid glob (or a plain path). */
export function globProblem(pattern: string): string | null {
  const r = parse(pattern);
  return "problem" in r ? r.problem : null;
}

/**
 * Compiles a pattern. An invalid one (which dispatch refuses) compiles to a pattern that
 * matches nothing rather than throwing: the executor never stops on a bad spec.
 */
export function compileGlob(pattern: string): CompiledGlob {
  const r = parse(pattern);
  return "problem" in r
    ? { segments: [{ t: "atoms", atoms: [{ t: "class", negate: false, ranges: [] }] }] }
    : r;
}

function atomMatches(a: Atom, c: string): boolean {
  if (a.t === "lit") return a.c === c;
  if (a.t === "any") return true;
  if (a.t === "class") {
    const hit = a.ranges.some(([lo, hi]) => c >= lo && c <= hi);
    return a.negate ? !hit : hit;
  }
  return false;
}

/**
 * Wildcard matching by dynamic programming, used at both levels: atoms against the characters
 * of one path segment (`*` spans characters), and segments against the path's segments (`**`
 * spans segments). Returns, for each prefix length of `items`, whether the whole pattern
 * matches it: O(pattern × items) calls of `one`.
 */
function matchPrefixes<P, I>(
  pattern: readonly P[],
  items: readonly I[],
  isStar: (p: P) => boolean,
  one: (p: P, item: I) => boolean,
): boolean[] {
  // prev[j]: pattern[0..i) matches items[0..j)
  let prev = new Array<boolean>(items.length + 1).fill(false);
  prev[0] = true;
  for (const p of pattern) {
    const cur = new Array<boolean>(items.length + 1).fill(false);
    if (isStar(p)) {
      let any = false;
      for (let j = 0; j <= items.length; j++) {
        any = any || prev[j];
        cur[j] = any;
      }
    } else {
      for (let j = 1; j <= items.length; j++) cur[j] = prev[j - 1] && one(p, items[j - 1]);
    }
    prev = cur;
  }
  return prev;
}

function segmentMatches(atoms: Atom[], s: string): boolean {
  return matchPrefixes(atoms, [...s], (a) => a.t === "star", atomMatches)[s.length] ?? false;
}

/**
 * Whether a path matches: the whole path, or a directory above it (a glob naming a directory
 * covers what is under it).
 */
export function matchGlob(glob: CompiledGlob, path: string): boolean {
  const parts = path.replace(/^\.\//, "").replace(/^\/+/, "").split("/");
  const ends = matchPrefixes(
    glob.segments,
    parts,
    (seg) => seg.t === "globstar",
    (seg, part) => seg.t === "atoms" && segmentMatches(seg.atoms, part),
  );
  // The whole path, or a directory prefix of it (at least one segment).
  return ends.some((hit, j) => j >= 1 && hit);
}

/** Whether a pattern uses glob syntax rather than naming a path. */
export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}
