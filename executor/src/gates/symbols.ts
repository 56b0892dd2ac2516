// Extracts the functions, classes and methods of a source file (TypeScript/JavaScript through
// the TypeScript compiler's parser, Python by indentation) so `destruction` can compare base
// and head symbol by symbol.
import ts from "typescript";

export type SymbolKind = "function" | "class" | "method";

export interface CodeSymbol {
  kind: SymbolKind;
  /** Qualified name: `dispatch`, `Queue.claim`. */
  name: string;
  /** The last segment of the name: `claim`. */
  simpleName: string;
  file: string;
  /** Meaningful lines of the whole declaration (no blank or comment-only lines). */
  lines: number;
  /** Declaration text without its name, comments and whitespace: equal bodies mean a rename. */
  shape: string;
  /** The declaration's meaningful lines, trimmed, for measuring how much of it survives. */
  bodyLines: string[];
  /** Enclosing class for methods. */
  parent?: string;
}

const TS_EXT = /\.(?:[cm]?[jt]sx?)$/i;
const PY_EXT = /\.pyi?$/i;

export function isParsable(path: string): boolean {
  return TS_EXT.test(path) || PY_EXT.test(path);
}

export function extractSymbols(path: string, text: string): CodeSymbol[] {
  if (TS_EXT.test(path)) return extractTsSymbols(path, text);
  if (PY_EXT.test(path)) return extractPySymbols(path, text);
  return [];
}

/** A line that carries code: not blank, not only a comment, not only brackets. */
export function meaningfulLines(text: string, comment: "c" | "py"): string[] {
  const out: string[] = [];
  let inBlock = false;
  for (const raw of text.split(/\r?\n/)) {
    let l = raw.trim();
    if (comment === "c") {
      if (inBlock) {
        const end = l.indexOf("*/");
        if (end < 0) continue;
        l = l.slice(end + 2).trim();
        inBlock = false;
      }
      if (l.startsWith("//")) continue;
      if (l.startsWith("/*")) {
        if (!l.includes("*/")) {
          inBlock = true;
          continue;
        }
        l = l.slice(l.indexOf("*/") + 2).trim();
      }
    } else if (l.startsWith("#")) continue;
    if (l === "") continue;
    out.push(l.replace(/\s+/g, " "));
  }
  return out;
}

/** Lines that are only brackets and punctuation say nothing about what was kept. */
export function isTrivialLine(l: string): boolean {
  return /^[\s{}()[\];,]*$/.test(l) || l === "else" || l === "} else {" || l === "return;" || l === "pass";
}

function shapeOf(text: string, name: string, comment: "c" | "py"): string {
  const body = meaningfulLines(text, comment).join(" ");
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return body.replace(new RegExp(`(?<![\\w$])${escaped}(?![\\w$])`, "g"), "\u0000").replace(/\s+/g, "");
}

function scriptKind(path: string): ts.ScriptKind {
  const ext = path.toLowerCase().split(".").pop();
  if (ext === "tsx") return ts.ScriptKind.TSX;
  if (ext === "jsx") return ts.ScriptKind.JSX;
  if (ext === "js" || ext === "mjs" || ext === "cjs") return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

function extractTsSymbols(path: string, text: string): CodeSymbol[] {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, scriptKind(path));
  const out: CodeSymbol[] = [];
  const add = (kind: SymbolKind, name: string, node: ts.Node, parent?: string) => {
    const nodeText = text.slice(node.getStart(sf), node.end);
    const simpleName = name.split(".").pop() ?? name;
    const bodyLines = meaningfulLines(nodeText, "c");
    out.push({
      kind,
      name,
      simpleName,
      file: path,
      lines: bodyLines.length,
      shape: shapeOf(nodeText, simpleName, "c"),
      bodyLines,
      parent,
    });
  };
  const isFn = (e: ts.Expression | undefined): e is ts.ArrowFunction | ts.FunctionExpression => {
    if (!e) return false;
    return ts.isArrowFunction(e) || ts.isFunctionExpression(e);
  };
  const unwrap = (e: ts.Expression | undefined): ts.Expression | undefined => {
    let cur = e;
    while (
      cur &&
      (ts.isParenthesizedExpression(cur) ||
        ts.isAsExpression(cur) ||
        ts.isSatisfiesExpression(cur) ||
        ts.isTypeAssertionExpression(cur))
    ) {
      cur = cur.expression;
    }
    return cur;
  };
  const addClass = (name: string, node: ts.ClassLikeDeclaration) => {
    add("class", name, node);
    for (const m of node.members) {
      let mname: string | undefined;
      if (ts.isConstructorDeclaration(m) && m.body) mname = "constructor";
      else if ((ts.isMethodDeclaration(m) || ts.isGetAccessor(m) || ts.isSetAccessor(m)) && m.body) {
        const base = memberName(m.name);
        if (base) mname = ts.isGetAccessor(m) ? `get ${base}` : ts.isSetAccessor(m) ? `set ${base}` : base;
      } else if (ts.isPropertyDeclaration(m) && isFn(unwrap(m.initializer))) {
        mname = memberName(m.name);
      }
      if (mname) add("method", `${name}.${mname}`, m, name);
    }
  };
  const addObjectMethods = (owner: string, obj: ts.ObjectLiteralExpression) => {
    for (const p of obj.properties) {
      if (ts.isMethodDeclaration(p) && p.body) {
        const n = memberName(p.name);
        if (n) add("method", `${owner}.${n}`, p, owner);
      } else if (ts.isPropertyAssignment(p) && isFn(unwrap(p.initializer))) {
        const n = memberName(p.name);
        if (n) add("method", `${owner}.${n}`, p, owner);
      }
    }
  };
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st) && st.body) {
      add("function", st.name?.text ?? "default", st);
    } else if (ts.isClassDeclaration(st)) {
      addClass(st.name?.text ?? "default", st);
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        if (!ts.isIdentifier(d.name)) continue;
        const init = unwrap(d.initializer);
        if (isFn(init)) add("function", d.name.text, st.declarationList.declarations.length === 1 ? st : d);
        else if (init && ts.isClassExpression(init)) addClass(d.name.text, init);
        else if (init && ts.isObjectLiteralExpression(init)) addObjectMethods(d.name.text, init);
      }
    } else if (ts.isExpressionStatement(st) && ts.isBinaryExpression(st.expression)) {
      // CommonJS: exports.name = function () {}, module.exports.name = () => {}
      const { left, right, operatorToken } = st.expression;
      if (operatorToken.kind !== ts.SyntaxKind.EqualsToken || !ts.isPropertyAccessExpression(left)) continue;
      const target = left.expression.getText(sf);
      if (target !== "exports" && target !== "module.exports") continue;
      const r = unwrap(right);
      if (isFn(r)) add("function", left.name.text, st);
      else if (r && ts.isClassExpression(r)) addClass(left.name.text, r);
    } else if (ts.isExportAssignment(st)) {
      const e = unwrap(st.expression);
      if (isFn(e)) add("function", "default", st);
      else if (e && ts.isClassExpression(e)) addClass(e.name?.text ?? "default", e);
    }
  }
  return out;
}

function memberName(n: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) return n.text;
  if (ts.isStringLiteral(n) || ts.isNumericLiteral(n)) return n.text;
  return undefined;
}

interface PyBlock {
  kind: "function" | "class";
  name: string;
  indent: number;
  start: number;
}

/** Python: top-level `def`/`class` and methods of classes (nested classes too), by indentation. */
function extractPySymbols(path: string, text: string): CodeSymbol[] {
  const lines = text.split(/\r?\n/);
  // Lines inside a bracket continuation or a triple-quoted string never start or end a block.
  const logical: boolean[] = [];
  let depth = 0;
  let triple: string | null = null;
  for (const line of lines) {
    logical.push(depth === 0 && triple === null);
    let i = 0;
    while (i < line.length) {
      if (triple) {
        const end = line.indexOf(triple, i);
        if (end < 0) break;
        i = end + 3;
        triple = null;
        continue;
      }
      const c = line[i];
      if (c === "#") break;
      if ((c === '"' || c === "'") && line.startsWith(c.repeat(3), i)) {
        triple = c.repeat(3);
        i += 3;
        continue;
      }
      if (c === '"' || c === "'") {
        const close = line.indexOf(c, i + 1);
        i = close < 0 ? line.length : close + 1;
        continue;
      }
      if ("([{".includes(c)) depth++;
      else if (")]}".includes(c)) depth = Math.max(0, depth - 1);
      i++;
    }
  }
  const indentOf = (l: string) => l.length - l.trimStart().length;
  const out: CodeSymbol[] = [];
  // Stack of open blocks; a def inside a function is not a symbol of its own.
  const stack: (PyBlock & { qualified: string; symbol: boolean })[] = [];
  const close = (end: number) => {
    const b = stack.pop();
    if (!b?.symbol) return;
    let start = b.start;
    while (start > 0 && lines[start - 1].trim().startsWith("@")) start--;
    let last = end;
    while (last > b.start && lines[last].trim() === "") last--;
    const blockText = lines.slice(start, last + 1).join("\n");
    const simpleName = b.name;
    const bodyLines = meaningfulLines(blockText, "py");
    const parent = stack.length > 0 ? stack[stack.length - 1].qualified : undefined;
    out.push({
      kind: b.kind === "class" ? "class" : parent ? "method" : "function",
      name: b.qualified,
      simpleName,
      file: path,
      lines: bodyLines.length,
      shape: shapeOf(blockText, simpleName, "py"),
      bodyLines,
      parent,
    });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!logical[i] || line.trim() === "" || line.trim().startsWith("#")) continue;
    const indent = indentOf(line);
    while (stack.length > 0 && indent <= stack[stack.length - 1].indent) close(i - 1);
    const m = /^\s*(?:async\s+)?(def|class)\s+([A-Za-z_]\w*)/.exec(line);
    if (!m) continue;
    const kind = m[1] === "def" ? "function" : "class";
    const parent = stack[stack.length - 1];
    const symbol = !parent || (parent.symbol && parent.kind === "class");
    const qualified = parent && symbol ? `${parent.qualified}.${m[2]}` : m[2];
    stack.push({ kind, name: m[2], indent, start: i, qualified, symbol });
  }
  while (stack.length > 0) close(lines.length - 1);
  return out;
}
