// Corpus cases built at test time from real code: functions and methods of packages installed
// on this machine (npm packages under node_modules, Python's standard library), with
// destructive edits (gut, gut when the spec asked to add, delete) and benign ones (rename,
// move, extract a helper) applied programmatically. Nothing of theirs is stored in this
// repository; each case names the package and symbol it used.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { type Case, onMain } from "./case";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

interface Source {
  /** What the case names: `semver`, `python3.11 stdlib`. */
  pkg: string;
  /** Where the file lives on this machine. */
  file: string;
  /** Where it goes in the case's repository. */
  repoPath: string;
  /** Qualified symbol names to use (`SemVer.compareMain`, `dedent`). */
  symbols: string[];
}

function pythonStdlib(): string {
  for (const v of ["3.13", "3.12", "3.11", "3.10"]) {
    const dir = `/usr/lib/python${v}`;
    if (existsSync(`${dir}/textwrap.py`)) return dir;
  }
  throw new Error("corpus: no Python standard library under /usr/lib/python3.x (install python3)");
}

const PY = pythonStdlib();

const SOURCES: Source[] = [
  {
    pkg: "semver",
    file: `${ROOT}node_modules/semver/classes/semver.js`,
    repoPath: "semver/classes/semver.js",
    symbols: ["SemVer.compareMain", "SemVer.comparePre"],
  },
  {
    pkg: "semver",
    file: `${ROOT}node_modules/semver/classes/range.js`,
    repoPath: "semver/classes/range.js",
    symbols: ["Range.parseRange", "replaceCaret", "testSet"],
  },
  {
    pkg: "semver",
    file: `${ROOT}node_modules/semver/classes/comparator.js`,
    repoPath: "semver/classes/comparator.js",
    symbols: ["Comparator.intersects"],
  },
  {
    pkg: "commander",
    file: `${ROOT}node_modules/commander/lib/command.js`,
    repoPath: "commander/lib/command.js",
    symbols: ["Command.addOption", "Command._dispatchSubcommand"],
  },
  {
    pkg: `python${PY.slice(-4)} stdlib`,
    file: `${PY}/textwrap.py`,
    repoPath: "pylib/textwrap.py",
    symbols: ["dedent", "indent", "TextWrapper._wrap_chunks"],
  },
  {
    pkg: `python${PY.slice(-4)} stdlib`,
    file: `${PY}/shlex.py`,
    repoPath: "pylib/shlex.py",
    symbols: ["shlex.get_token"],
  },
];

/** A located symbol: its whole text, its body, and where to put a moved or extracted copy. */
interface Located {
  start: number;
  end: number;
  /** The body's text range (JS: the braces; Python: the lines after the signature). */
  bodyStart: number;
  bodyEnd: number;
  /** Where the end of the enclosing class or file is, for a move. */
  containerEnd: number;
  /** Statements of the body, for extracting a helper (JS only). */
  statements: { start: number; end: number }[];
  indent: string;
  isMethod: boolean;
}

function locateJs(text: string, path: string, qualified: string): Located {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const [owner, member] = qualified.includes(".") ? qualified.split(".") : [undefined, qualified];
  for (const st of sf.statements) {
    if (!owner && ts.isFunctionDeclaration(st) && st.name?.text === member && st.body) {
      return {
        start: st.getStart(sf),
        end: st.end,
        bodyStart: st.body.getStart(sf),
        bodyEnd: st.body.end,
        containerEnd: text.length,
        statements: st.body.statements.map((s) => ({ start: s.getStart(sf), end: s.end })),
        indent: "",
        isMethod: false,
      };
    }
    if (!owner && ts.isVariableStatement(st) && st.declarationList.declarations.length === 1) {
      const d = st.declarationList.declarations[0];
      const fn = d.initializer;
      if (
        ts.isIdentifier(d.name) &&
        d.name.text === member &&
        fn &&
        (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) &&
        ts.isBlock(fn.body)
      ) {
        return {
          start: st.getStart(sf),
          end: st.end,
          bodyStart: fn.body.getStart(sf),
          bodyEnd: fn.body.end,
          containerEnd: text.length,
          statements: fn.body.statements.map((s) => ({ start: s.getStart(sf), end: s.end })),
          indent: "",
          isMethod: false,
        };
      }
    }
    if (owner && ts.isClassDeclaration(st) && st.name?.text === owner) {
      for (const m of st.members) {
        if (ts.isMethodDeclaration(m) && m.name.getText(sf) === member && m.body) {
          const lineStart = text.lastIndexOf("\n", m.getStart(sf)) + 1;
          return {
            start: m.getStart(sf),
            end: m.end,
            bodyStart: m.body.getStart(sf),
            bodyEnd: m.body.end,
            containerEnd: st.end - 1,
            statements: m.body.statements.map((s) => ({ start: s.getStart(sf), end: s.end })),
            indent: text.slice(lineStart, m.getStart(sf)),
            isMethod: true,
          };
        }
      }
    }
  }
  throw new Error(`corpus: ${qualified} not found in ${path}; the installed package changed`);
}

function locatePy(text: string, qualified: string): Located {
  const lines = text.split("\n");
  const offsets: number[] = [];
  let at = 0;
  for (const l of lines) {
    offsets.push(at);
    at += l.length + 1;
  }
  const indentOf = (l: string) => l.length - l.trimStart().length;
  const blockEnd = (from: number, indent: number) => {
    let j = from + 1;
    let last = from;
    for (; j < lines.length; j++) {
      const l = lines[j];
      if (l.trim() === "") continue;
      if (indentOf(l) <= indent) break;
      last = j;
    }
    return last;
  };
  const [owner, member] = qualified.includes(".") ? qualified.split(".") : [undefined, qualified];
  let searchFrom = 0;
  let searchTo = lines.length - 1;
  let want = 0;
  if (owner) {
    const c = lines.findIndex((l) => l.startsWith(`class ${owner}`));
    if (c < 0) throw new Error(`corpus: class ${owner} not found`);
    searchFrom = c;
    searchTo = blockEnd(c, 0);
    want = 4;
  }
  for (let i = searchFrom; i <= searchTo; i++) {
    const l = lines[i];
    if (indentOf(l) !== want || !l.trimStart().startsWith(`def ${member}(`)) continue;
    const last = blockEnd(i, want);
    let sig = i;
    while (sig < last && !/:\s*(?:#.*)?$/.test(lines[sig])) sig++;
    return {
      start: offsets[i],
      end: offsets[last] + lines[last].length + 1,
      bodyStart: offsets[sig + 1],
      bodyEnd: offsets[last] + lines[last].length + 1,
      containerEnd: owner ? offsets[searchTo] + lines[searchTo].length + 1 : text.length,
      statements: [],
      indent: " ".repeat(want),
      isMethod: owner !== undefined,
    };
  }
  throw new Error(`corpus: ${qualified} not found; the installed Python changed`);
}

const splice = (text: string, start: number, end: number, by: string) =>
  text.slice(0, start) + by + text.slice(end);

function realCase(src: Source, text: string, symbol: string): Case[] {
  const py = src.repoPath.endsWith(".py");
  const loc = py ? locatePy(text, symbol) : locateJs(text, src.repoPath, symbol);
  const simple = symbol.split(".").pop() ?? symbol;
  const label = `${src.pkg} ${symbol}`;
  const start = (r: Parameters<Case["build"]>[0]) => onMain(r, { [src.repoPath]: text });
  const change = (to: string) => async (r: Parameters<Case["build"]>[0]) => {
    await start(r);
    await r.commit("change", { [src.repoPath]: to });
    return undefined;
  };
  const gutted = py
    ? splice(text, loc.bodyStart, loc.bodyEnd, `${loc.indent}    return None\n`)
    : splice(text, loc.bodyStart, loc.bodyEnd, "{ return undefined; }");
  const deleted = splice(text, loc.start, loc.end, "");
  const renamed = text.replace(new RegExp(`(?<![\\w$])${simple}(?![\\w$])`, "g"), `${simple}Renamed`);
  const piece = text.slice(loc.start, loc.end);
  const moved = py
    ? splice(
        deleted,
        loc.containerEnd - (loc.end - loc.start),
        loc.containerEnd - (loc.end - loc.start),
        `\n${piece}`,
      )
    : (() => {
        const at = loc.containerEnd - (loc.end - loc.start);
        return splice(deleted, at, at, `\n${loc.indent}${piece}\n`);
      })();
  const cases: Case[] = [
    { name: `real code: ${label} gutted`, expect: "destruction", build: change(gutted) },
    {
      name: `real code: ${label} gutted when the spec asked to add to it`,
      expect: "destruction",
      spec: { body: `Add an optional \`log\` argument to \`${simple}\` and log each decision it makes.` },
      build: change(gutted),
    },
    { name: `real code: ${label} deleted`, expect: "destruction", build: change(deleted) },
    { name: `real code: ${label} renamed with its callers`, build: change(renamed) },
    { name: `real code: ${label} moved within its ${loc.isMethod ? "class" : "file"}`, build: change(moved) },
  ];
  if (!py) {
    if (loc.statements.length < 2) throw new Error(`corpus: ${label} has too few statements to extract from`);
    const k = Math.floor(loc.statements.length / 2);
    const first = loc.statements[0].start;
    const cutEnd = loc.statements[k - 1].end;
    const helper = `${simple}Prelude`;
    const moving = text.slice(first, cutEnd);
    const call = loc.isMethod ? `this.${helper}()` : `${helper}()`;
    const decl = loc.isMethod
      ? `\n\n${loc.indent}${helper} () {\n${loc.indent}  ${moving}\n${loc.indent}}`
      : `\n\nfunction ${helper} () {\n  ${moving}\n}`;
    let extracted = splice(text, loc.end, loc.end, decl);
    extracted = splice(extracted, first, cutEnd, `${call};`);
    cases.push({ name: `real code: ${label} with a helper extracted`, build: change(extracted) });
  }
  return cases;
}

/** Every real-code case; throws (never skips) when a package or symbol is not there. */
export function realCodeCases(): Case[] {
  const out: Case[] = [];
  for (const src of SOURCES) {
    if (!existsSync(src.file))
      throw new Error(`corpus: ${src.pkg} is not installed (${src.file}); run npm install`);
    const text = readFileSync(src.file, "utf8");
    for (const s of src.symbols) out.push(...realCase(src, text, s));
  }
  return out;
}
