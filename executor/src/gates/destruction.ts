// The `destruction` gate: existing functions, methods and classes deleted (not moved or
// renamed) or gutted, public symbols deleted, files deleted that the spec does not ask to
// remove, and changes that delete far more than they add. Only what the spec asks to remove
// or replace (its `removes`, or prose where a removal verb governs the name) is exempt:
// naming a symbol, or asking to add to it, licenses nothing.
import {
  type Intent,
  intentFor,
  type Mention,
  readIntent,
  removesPath,
  removesSymbol,
  type Spec,
} from "@mtor/schema";
import { basePath, type Change, headPath } from "./change";
import { type ChangedFile, gitRaw } from "./git";
import { type CodeSymbol, extractSymbols, isParsable, isTrivialLine } from "./symbols";
import { type FoundTest, findTests } from "./test-names";
import type { Finding } from "./types";

/** A body this long or longer that ends up this short has been gutted. */
export const SHRINK = {
  minLines: 8,
  maxLines: 3,
  maxRatio: 0.3,
  longMinLines: 15,
  longMaxRatio: 0.25,
  /** For a symbol the spec asks to add to or change. */
  askedMinLines: 5,
  askedMaxRatio: 0.5,
};
/** Net deletions beyond this many times the additions, and beyond this many lines, flag. */
export const NET_DELETION = { ratio: 3, minLines: 50 };
/** Share of a symbol's lines that must be gone from the whole change for it to count as lost. */
const LOST_THRESHOLD = 0.5;

const LOCKFILES =
  /(?:^|\/)(?:package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb?|Cargo\.lock|go\.sum|poetry\.lock|uv\.lock|Pipfile\.lock|composer\.lock|Gemfile\.lock)$/;

type SpecPart = Pick<Spec, "targets" | "body"> & { removes?: readonly string[] };

export async function checkDestruction(ch: Change, spec: SpecPart): Promise<Finding[]> {
  const findings: Finding[] = [];
  const intent = readIntent(spec.body ?? "", spec.removes ?? []);
  const lost = lineLoss(ch);

  const baseSyms: CodeSymbol[] = [];
  const headSyms: CodeSymbol[] = [];
  const headPathOf = new Map<string, string>();
  for (const f of ch.files) {
    const bp = basePath(f);
    const hp = headPath(f);
    if (bp && hp) headPathOf.set(bp, hp);
    if (bp && isParsable(bp)) {
      const t = ch.before.get(bp);
      if (t) baseSyms.push(...extractSymbols(bp, t));
    }
    if (hp && isParsable(hp)) {
      const t = ch.after.get(hp);
      if (t) headSyms.push(...extractSymbols(hp, t));
    }
  }

  // Pair each base symbol with its head counterpart: same name (same file first, then any
  // file: a move), then same body under another name (a rename), then same short name.
  const unmatched = new Set(headSyms);
  const pairs: [CodeSymbol, CodeSymbol][] = [];
  const gone: CodeSymbol[] = [];
  const take = (pred: (h: CodeSymbol) => boolean): CodeSymbol | undefined => {
    for (const h of unmatched) {
      if (pred(h)) {
        unmatched.delete(h);
        return h;
      }
    }
    return undefined;
  };
  const pending: CodeSymbol[] = [];
  for (const s of baseSyms) {
    const h = take((x) => x.name === s.name && x.file === (headPathOf.get(s.file) ?? s.file));
    if (h) pairs.push([s, h]);
    else pending.push(s);
  }
  const pending2: CodeSymbol[] = [];
  for (const s of pending) {
    const h = take((x) => x.name === s.name);
    if (h) pairs.push([s, h]);
    else pending2.push(s);
  }
  for (const s of pending2) {
    const h =
      take((x) => (x.kind === "class") === (s.kind === "class") && x.shape === s.shape) ??
      take((x) => (x.kind === "class") === (s.kind === "class") && x.simpleName === s.simpleName);
    if (h) pairs.push([s, h]);
    else gone.push(s);
  }

  // Files deleted outright.
  const deletedFiles = new Set<string>();
  for (const f of ch.files) {
    if (f.status !== "D") continue;
    const text = ch.before.get(f.path);
    const lines = text ? text.split(/\r?\n/).filter((l) => l.trim() !== "") : [];
    if (removesPath(intent, f.path)) {
      deletedFiles.add(f.path);
      continue;
    }
    if (text === null || text === undefined) {
      findings.push({
        gate: "destruction",
        detail: `deleted file ${f.path}, which the spec does not name`,
        facts: { kind: "deleted_file", file: f.path },
      });
      deletedFiles.add(f.path);
      continue;
    }
    if (lines.length === 0) continue;
    if (lost(lines) < LOST_THRESHOLD) continue; // its content lives on elsewhere: a split or move
    const syms = baseSyms.filter((s) => s.file === f.path && s.kind !== "method");
    const what = syms.length > 0 ? `, with ${describeSymbols(syms)}` : "";
    findings.push({
      gate: "destruction",
      detail: `deleted file ${f.path} (${plural(lines.length, "line")}${what}), which the spec does not name`,
      facts: { kind: "deleted_file", file: f.path },
    });
    deletedFiles.add(f.path);
  }

  // Symbols deleted. A deleted test or public symbol is always reported; other code when it is
  // substantial or still used somewhere; a small helper retired together with its callers is a
  // refactor.
  let exemptLines = 0;
  const goneClasses = new Set<string>();
  const reported: { s: CodeSymbol; usedIn?: string; surface: boolean }[] = [];
  const sorted = [...gone].sort((a, b) => (a.kind === "class" ? 0 : 1) - (b.kind === "class" ? 0 : 1));
  for (const s of sorted) {
    if (removesSymbol(intent, s)) {
      exemptLines += s.lines;
      if (s.kind === "class") goneClasses.add(`${s.file}\0${s.name}`);
      continue;
    }
    if (deletedFiles.has(s.file)) continue;
    if (s.parent && goneClasses.has(`${s.file}\0${s.parent}`)) continue;
    const surface = isPublic(s);
    // Rewritten or moved under another name; a public name is gone for its callers all the same.
    if (!surface && lost(s.bodyLines) < LOST_THRESHOLD) continue;
    const test = isTestSymbol(s);
    let usedIn: string | undefined;
    if (!test) {
      usedIn = await stillUsed(ch, s);
      const substantial = s.lines >= SHRINK.minLines && !isTestPath(s.file);
      if (!usedIn && !substantial && !surface) continue;
    }
    if (s.kind === "class") goneClasses.add(`${s.file}\0${s.name}`);
    reported.push({ s, usedIn, surface });
  }
  for (const { s, usedIn, surface } of reported) {
    if (isTestSymbol(s)) {
      findings.push({
        gate: "destruction",
        detail: `deleted test \`${s.name}\` in ${s.file}`,
        facts: { kind: "deleted_tests", file: s.file, tests: [s.name] },
      });
      continue;
    }
    const methods =
      s.kind === "class" ? gone.filter((m) => m.parent === s.name && m.file === s.file).length : 0;
    const extra = methods > 0 ? `, ${plural(methods, "method")}` : "";
    const used = usedIn ? `, still used in ${usedIn}` : "";
    const pub = surface ? `; it is ${publicWord(s.file)} API and the spec does not remove it` : "";
    const verb = askedVerb(intentFor(intent, s));
    const asked =
      verb === undefined
        ? ""
        : verb === ""
          ? "; the spec names it but does not ask to remove it"
          : verb === "keep"
            ? "; the spec says to keep it"
            : `; the spec asks to ${verb} it, not to delete it`;
    findings.push({
      gate: "destruction",
      detail: `deleted ${s.kind} \`${s.name}\` in ${s.file} (${plural(s.lines, "line")}${extra})${used}${pub}${asked}`,
      facts: {
        kind: "deleted_symbol",
        symbol_kind: s.kind,
        name: s.name,
        file: s.file,
        lines: s.lines,
        ...(usedIn ? { used_in: usedIn } : {}),
      },
    });
  }

  // Public symbols that stay but are no longer exported are gone for outside callers too.
  for (const [s, h] of pairs) {
    if (!isPublic(s) || h.exported || removesSymbol(intent, s)) continue;
    if (s.parent && goneClasses.has(`${s.file}\0${s.parent}`)) continue;
    findings.push({
      gate: "destruction",
      detail: `${s.kind} \`${s.name}\` in ${s.file} is no longer ${publicWord(s.file) === "exported" ? "exported" : "public"} (now \`${h.name}\` in ${h.file}); the spec does not remove it`,
      facts: { kind: "unexported", name: s.name, file: s.file },
    });
  }

  // Symbols gutted: a long body replaced by a stub.
  for (const [s, h] of pairs) {
    if (s.kind === "class") continue;
    const short =
      s.lines >= SHRINK.minLines && h.lines <= SHRINK.maxLines && h.lines <= s.lines * SHRINK.maxRatio;
    const gutted = s.lines >= SHRINK.longMinLines && h.lines <= s.lines * SHRINK.longMaxRatio;
    const m = intentFor(intent, s);
    // Asked to add to it: losing half of it is already more than was asked.
    const extendAsked = m !== undefined && m.kind !== "remove" && m.verb !== undefined;
    const halved =
      extendAsked && s.lines >= SHRINK.askedMinLines && h.lines <= s.lines * SHRINK.askedMaxRatio;
    if (!short && !gutted && !halved) continue;
    if (m?.kind === "remove") continue; // replaced or rewritten as asked
    if (lost(s.bodyLines) < LOST_THRESHOLD) continue; // its logic moved into a helper
    const moved = h.file !== (headPathOf.get(s.file) ?? s.file) ? ` (now in ${h.file})` : "";
    const verb = askedVerb(m);
    const shrank = `shrank from ${plural(s.lines, "line")} to ${h.lines}`;
    findings.push({
      gate: "destruction",
      detail: verb
        ? `the spec ${verb === "keep" ? "says" : "asks"} to ${verb} \`${s.name}\` in ${s.file}${moved}; it ${shrank}`
        : `${s.kind} \`${s.name}\` in ${s.file}${moved} ${shrank}${verb === "" ? "; the spec names it but does not ask to replace it" : ""}`,
      facts: {
        kind: "shrank",
        name: s.name,
        file: s.file,
        ...(moved ? { now_in: h.file } : {}),
        from_lines: s.lines,
        to_lines: h.lines,
        ...(verb ? { asked: verb } : {}),
      },
    });
  }

  // Tests deleted (JS/TS; Python test functions are symbols above): the model that cannot
  // make a test pass deletes it.
  findings.push(...deletedTests(ch, intent, deletedFiles, lost));

  // Net deletions, when nothing above already explains them.
  if (findings.length === 0) {
    let ins = 0;
    let del = 0;
    const worst: ChangedFile[] = [];
    for (const f of ch.files) {
      if (LOCKFILES.test(f.path) || f.binary) continue;
      if (f.status === "D" && deletedFiles.has(f.path) && removesPath(intent, f.path)) continue;
      ins += f.insertions;
      del += f.deletions;
      if (f.deletions > f.insertions) worst.push(f);
    }
    del = Math.max(0, del - exemptLines);
    if (del > NET_DELETION.ratio * ins && del - ins > NET_DELETION.minLines) {
      worst.sort((a, b) => b.deletions - b.insertions - (a.deletions - a.insertions));
      const top = worst
        .slice(0, 3)
        .map((f) => `${f.path} −${f.deletions}`)
        .join(", ");
      findings.push({
        gate: "destruction",
        detail: `the change deletes ${plural(del, "line")} and adds ${ins}${top ? `: ${top}` : ""}`,
        facts: { kind: "net_deletion", deleted: del, added: ins },
      });
    }
  }
  return findings;
}

/**
 * Measures how much of a piece of code is gone from the change as a whole: the share of its
 * non-trivial lines whose count across all changed files dropped from merge base to head.
 */
function lineLoss(ch: Change): (lines: string[]) => number {
  const count = (texts: Iterable<string | null>) => {
    const m = new Map<string, number>();
    for (const t of texts) {
      if (!t) continue;
      for (const raw of t.split(/\r?\n/)) {
        const l = raw.trim().replace(/\s+/g, " ");
        if (l === "" || isTrivialLine(l)) continue;
        m.set(l, (m.get(l) ?? 0) + 1);
      }
    }
    return m;
  };
  const before = count(ch.before.values());
  const after = count(ch.after.values());
  return (lines) => {
    const mine = new Map<string, number>();
    for (const raw of lines) {
      const l = raw.trim().replace(/\s+/g, " ");
      if (l !== "" && !isTrivialLine(l)) mine.set(l, (mine.get(l) ?? 0) + 1);
    }
    let total = 0;
    let gone = 0;
    for (const [l, n] of mine) {
      total += n;
      const drop = Math.max(0, (before.get(l) ?? 0) - (after.get(l) ?? 0));
      gone += Math.min(n, drop);
    }
    return total === 0 ? 1 : gone / total;
  };
}

/**
 * What the spec asked for a symbol it did not ask to remove, as a verb: "extend", "change",
 * "keep"; "" when the spec only names it.
 */
function askedVerb(m: Mention | undefined): string | undefined {
  if (!m || m.kind === "remove") return undefined;
  if (m.kind === "keep") return "keep";
  if (!m.verb) return "";
  if (m.verb === "add" || m.verb === "extend") return "extend";
  return REMOVE_LEMMAS.has(m.verb) ? "change" : m.verb;
}

const REMOVE_LEMMAS = new Set(["remove", "delete", "drop", "replace", "rewrite", "inline", "rename"]);

/** Part of the public surface, outside test code. */
function isPublic(s: CodeSymbol): boolean {
  return s.exported && !isTestPath(s.file);
}

function publicWord(file: string): string {
  return /\.pyi?$/i.test(file) ? "public" : "exported";
}

function describeSymbols(syms: CodeSymbol[]): string {
  const names = syms.slice(0, 3).map((s) => `\`${s.name}\``);
  const more = syms.length > 3 ? ` and ${syms.length - 3} more` : "";
  return `${names.join(", ")}${more}`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

const JS_TEST_FILE = /\.(?:[cm]?[jt]sx?)$/i;

function deletedTests(
  ch: Change,
  intent: Intent,
  deletedFiles: Set<string>,
  lost: (lines: string[]) => number,
): Finding[] {
  const before: FoundTest[] = [];
  const after: FoundTest[] = [];
  for (const f of ch.files) {
    const bp = basePath(f);
    const hp = headPath(f);
    if (bp && JS_TEST_FILE.test(bp) && !deletedFiles.has(bp)) {
      const t = ch.before.get(bp);
      if (t) before.push(...findTests(bp, t).filter((x) => !x.group));
    }
    if (hp && JS_TEST_FILE.test(hp)) {
      const t = ch.after.get(hp);
      if (t) after.push(...findTests(hp, t).filter((x) => !x.group));
    }
  }
  if (before.length === 0) return [];
  // By title alone: a test moved to another describe block or file is not deleted.
  const key = (t: FoundTest) => t.name;
  const shape = (t: FoundTest) => (t.text ?? "").split(t.name).join("").replace(/\s+/g, "");
  const remaining = new Map<string, number>();
  for (const t of after) remaining.set(key(t), (remaining.get(key(t)) ?? 0) + 1);
  const shapes = new Set(after.map(shape));
  const gone = new Map<string, string[]>();
  for (const t of before) {
    const k = key(t);
    const n = remaining.get(k) ?? 0;
    if (n > 0) {
      remaining.set(k, n - 1);
      continue;
    }
    if (shapes.has(shape(t))) continue; // renamed
    if (removesSymbol(intent, { name: t.name, simpleName: t.name, file: t.file })) continue; // asked for
    if (lost((t.text ?? "").split(/\r?\n/)) < LOST_THRESHOLD) continue;
    const list = gone.get(t.file) ?? [];
    list.push(t.name);
    gone.set(t.file, list);
  }
  return [...gone].map(([file, names]) => ({
    gate: "destruction" as const,
    detail:
      names.length === 1
        ? `deleted test \`${names[0]}\` in ${file}`
        : `deleted ${names.length} tests in ${file}: ${names
            .slice(0, 4)
            .map((n) => `\`${n}\``)
            .join(", ")}${names.length > 4 ? ` and ${names.length - 4} more` : ""}`,
    facts: { kind: "deleted_tests" as const, file, tests: names },
  }));
}

const TEST_PATH =
  /(?:^|\/)(?:tests?|__tests__|spec|specs|testing|fixtures)\/|(?:^|\/)test_[^/]*\.py$|_test\.(?:py|go)$|\.(?:test|spec)\.[cm]?[jt]sx?$|(?:^|\/)conftest\.py$/;

/** Test files and test helpers: their exports are not an API anyone else relies on. */
export function isTestPath(path: string): boolean {
  return TEST_PATH.test(path);
}

function isTestSymbol(s: CodeSymbol): boolean {
  return s.kind !== "class" && /^test/i.test(s.simpleName) && isTestPath(s.file);
}

/**
 * Where a deleted symbol is still referenced at head (a file path), if anywhere: a function by
 * its name as a word, a method as `.name`. Prose files do not count.
 */
async function stillUsed(ch: Change, s: CodeSymbol): Promise<string | undefined> {
  const n = s.simpleName.replace(/^(?:get|set) /, "");
  if (!/^[A-Za-z_$][\w$]*$/.test(n) || n === "constructor" || n === "default") return undefined;
  const pattern =
    s.kind === "method"
      ? `\\.${n.replace(/\$/g, "\\$")}([^A-Za-z0-9_$]|$)`
      : `(^|[^A-Za-z0-9_$.])${n.replace(/\$/g, "\\$")}([^A-Za-z0-9_$]|$)`;
  const r = await gitRaw(ch.repoDir, [
    "grep",
    "-l",
    "-E",
    "-e",
    pattern,
    ch.headSha,
    "--",
    ".",
    ":(exclude)*.md",
    ":(exclude)*.txt",
    ":(exclude)*.rst",
    ":(exclude)*.lock",
  ]);
  if (r.code !== 0) return undefined;
  const files = r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => l.slice(ch.headSha.length + 1));
  return files[0];
}
