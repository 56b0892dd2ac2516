// Finds the tests a change adds: JS/TS `it`/`test`/`describe` calls (parsed, so titles on the
// next line and nested describes work), Python `def test_*`, Go `func Test*`, Rust `#[test] fn`.
import ts from "typescript";

export interface FoundTest {
  /** The test's own title or function name. */
  name: string;
  /** Enclosing describe titles or class/module names, outermost first. */
  scope: string[];
  file: string;
  line: number;
  /** A describe/suite block rather than a test. */
  group: boolean;
  /** JS/TS: the whole call's source, for telling a deleted test from a renamed one. */
  text?: string;
}

const JS_EXT = /\.(?:[cm]?[jt]sx?)$/i;

/** Every test in a file; the caller keeps those whose line was added. */
export function findTests(path: string, text: string): FoundTest[] {
  if (JS_EXT.test(path)) return findJsTests(path, text);
  if (/\.py$/i.test(path)) return findPyTests(path, text);
  if (/_test\.go$/i.test(path)) return findGoTests(path, text);
  if (/\.rs$/i.test(path)) return findRustTests(path, text);
  return [];
}

/** The tests a change added: those whose declaring line is among the added lines. */
export function addedTests(path: string, text: string, added: Set<number>): FoundTest[] {
  return findTests(path, text).filter((t) => added.has(t.line));
}

/**
 * Whether a spec's test entry names this test. Exact, but qualified spellings count too:
 * `throttle > backs off`, `throttle backs off`, `TestQueue::test_claim`, `tests::it_works`,
 * `test/test_q.py::test_claim`.
 */
export function nameMatches(entry: string, t: FoundTest): boolean {
  const e = entry.trim();
  if (e === t.name) return true;
  const chain = [...t.scope, t.name];
  for (let i = 0; i < chain.length; i++) {
    const tail = chain.slice(i);
    for (const sep of [" > ", " ", "::", "."]) {
      const full = tail.join(sep);
      if (e === full) return true;
      if (sep === "::" && (e.endsWith(`::${full}`) || e.endsWith(`/${full}`))) return true;
    }
  }
  return false;
}

const TEST_FNS = new Set(["it", "test", "specify", "bench"]);
const GROUP_FNS = new Set(["describe", "suite", "context"]);

function findJsTests(path: string, text: string): FoundTest[] {
  const kind = /\.[cm]?tsx?$/i.test(path)
    ? /x$/i.test(path)
      ? ts.ScriptKind.TSX
      : ts.ScriptKind.TS
    : ts.ScriptKind.JSX;
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind);
  const out: FoundTest[] = [];
  const visit = (node: ts.Node, scope: string[]) => {
    if (ts.isCallExpression(node)) {
      const fn = testCallee(node.expression);
      const title = node.arguments.length > 0 ? titleOf(node.arguments[0], sf) : undefined;
      if (fn && title !== undefined) {
        const group = GROUP_FNS.has(fn);
        const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        out.push({
          name: title,
          scope,
          file: path,
          line,
          group,
          text: text.slice(node.getStart(sf), node.end),
        });
        const inner = group ? [...scope, title] : scope;
        for (const a of node.arguments.slice(1)) visit(a, inner);
        return;
      }
    }
    ts.forEachChild(node, (c) => visit(c, scope));
  };
  visit(sf, []);
  return out;
}

/** `it`, `test.only`, `describe.skip.each(table)`, `it.each\`table\`` → the base name. */
function testCallee(e: ts.Expression): string | undefined {
  let cur: ts.Expression = e;
  for (;;) {
    if (ts.isIdentifier(cur)) {
      return TEST_FNS.has(cur.text) || GROUP_FNS.has(cur.text) ? cur.text : undefined;
    }
    if (ts.isPropertyAccessExpression(cur)) {
      const prop = cur.name.text;
      if (
        !/^(only|skip|todo|each|concurrent|sequential|fails|skipIf|runIf|failing|for|serial|fixme|parallel)$/.test(
          prop,
        )
      ) {
        return undefined;
      }
      cur = cur.expression;
    } else if (ts.isCallExpression(cur)) {
      // describe.each(table)(title, fn), test.skipIf(cond)(title, fn)
      if (!ts.isPropertyAccessExpression(cur.expression)) return undefined;
      cur = cur.expression;
    } else if (ts.isTaggedTemplateExpression(cur)) {
      cur = cur.tag;
    } else {
      return undefined;
    }
  }
}

function titleOf(arg: ts.Expression, sf: ts.SourceFile): string | undefined {
  if (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) return arg.text;
  if (ts.isTemplateExpression(arg)) return arg.getText(sf).slice(1, -1);
  return undefined;
}

function findPyTests(path: string, text: string): FoundTest[] {
  const out: FoundTest[] = [];
  const classes: { name: string; indent: number }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const indent = line.length - line.trimStart().length;
    while (classes.length > 0 && indent <= classes[classes.length - 1].indent) classes.pop();
    const cls = /^\s*class\s+([A-Za-z_]\w*)/.exec(line);
    if (cls) {
      classes.push({ name: cls[1], indent });
      return;
    }
    const m = /^\s*(?:async\s+)?def\s+(test\w*)\s*\(/.exec(line);
    if (m) out.push({ name: m[1], scope: classes.map((c) => c.name), file: path, line: i + 1, group: false });
  });
  return out;
}

function findGoTests(path: string, text: string): FoundTest[] {
  const out: FoundTest[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const m = /^func\s+(Test[A-Z0-9_]\w*|Test)\s*\(\s*\w+\s+\*testing\.T\s*\)/.exec(line);
    if (m) out.push({ name: m[1], scope: [], file: path, line: i + 1, group: false });
  });
  return out;
}

function findRustTests(path: string, text: string): FoundTest[] {
  const out: FoundTest[] = [];
  const lines = text.split(/\r?\n/);
  const mods: { name: string; depth: number }[] = [];
  let depth = 0;
  let pendingTest = false;
  let pendingMod: string | null = null;
  lines.forEach((line, i) => {
    const t = line.trim();
    if (/^#\[(?:[\w:]+::)?test\b/.test(t)) pendingTest = true;
    const mod = /^(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*\{/.exec(t);
    if (mod) pendingMod = mod[1];
    const fn = /^(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+(\w+)/.exec(t);
    if (fn) {
      if (pendingTest)
        out.push({ name: fn[1], scope: mods.map((m) => m.name), file: path, line: i + 1, group: false });
      pendingTest = false;
    } else if (t !== "" && !t.startsWith("#[") && !t.startsWith("//")) {
      pendingTest = false;
    }
    for (const c of line.replace(/"(?:\\.|[^"\\])*"/g, "").replace(/\/\/.*$/, "")) {
      if (c === "{") {
        depth++;
        if (pendingMod) {
          mods.push({ name: pendingMod, depth });
          pendingMod = null;
        }
      } else if (c === "}") {
        while (mods.length > 0 && mods[mods.length - 1].depth >= depth) mods.pop();
        depth--;
      }
    }
  });
  return out;
}
