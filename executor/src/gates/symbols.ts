// Extracts the functions, classes and methods of a source file (TypeScript/JavaScript through
// the TypeScript compiler's parser, Python by indentation, Go by its gofmt layout) so
// `destruction` can compare base and head symbol by symbol, and tell the public surface apart.
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
  /** Enclosing class for methods (the receiver type in Go). */
  parent?: string;
  /**
   * Part of the public surface: exported in TS/JS (a public method of an exported class too),
   * not underscored in Python, capitalised in Go outside `package main`. Callers outside the
   * repository may rely on it.
   */
  exported: boolean;
}

const TS_EXT = /\.(?:[cm]?[jt]sx?)$/i;
const PY_EXT = /\.pyi?$/i;
const GO_EXT = /\.go$/i;

export function isParsable(path: string): boolean {
  return TS_EXT.test(path) || PY_EXT.test(path) || GO_EXT.test(path);
}

export function extractSymbols(path: string, text: string): CodeSymbol[] {
  if (TS_EXT.test(path)) return extractTsSymbols(path, text);
  if (PY_EXT.test(path)) return extractPySymbols(path, text);
  if (GO_EXT.test(path)) return extractGoSymbols(path, text);
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
  const listed = exportedNames(sf);
  const add = (kind: SymbolKind, name: string, node: ts.Node, exported: boolean, parent?: string) => {
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
      exported,
    });
  };
  const isExported = (node: ts.Node, name: string | undefined) =>
    (name !== undefined && listed.has(name)) ||
    (ts.canHaveModifiers(node) &&
      (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword));
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
  const addClass = (name: string, node: ts.ClassLikeDeclaration, exported: boolean) => {
    add("class", name, node, exported);
    for (const m of node.members) {
      let mname: string | undefined;
      if (ts.isConstructorDeclaration(m) && m.body) mname = "constructor";
      else if ((ts.isMethodDeclaration(m) || ts.isGetAccessor(m) || ts.isSetAccessor(m)) && m.body) {
        const base = memberName(m.name);
        if (base) mname = ts.isGetAccessor(m) ? `get ${base}` : ts.isSetAccessor(m) ? `set ${base}` : base;
      } else if (ts.isPropertyDeclaration(m) && isFn(unwrap(m.initializer))) {
        mname = memberName(m.name);
      }
      if (!mname) continue;
      const hidden =
        (m.name !== undefined && ts.isPrivateIdentifier(m.name)) ||
        mname === "constructor" ||
        mname.replace(/^[gs]et /, "").startsWith("_") ||
        ((ts.canHaveModifiers(m) ? ts.getModifiers(m) : undefined) ?? []).some(
          (x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.ProtectedKeyword,
        );
      add("method", `${name}.${mname}`, m, exported && !hidden, name);
    }
  };
  const addObjectMethods = (owner: string, obj: ts.ObjectLiteralExpression, exported: boolean) => {
    for (const p of obj.properties) {
      if (ts.isMethodDeclaration(p) && p.body) {
        const n = memberName(p.name);
        if (n) add("method", `${owner}.${n}`, p, exported && !n.startsWith("_"), owner);
      } else if (ts.isPropertyAssignment(p) && isFn(unwrap(p.initializer))) {
        const n = memberName(p.name);
        if (n) add("method", `${owner}.${n}`, p, exported && !n.startsWith("_"), owner);
      }
    }
  };
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st) && st.body) {
      add("function", st.name?.text ?? "default", st, isExported(st, st.name?.text));
    } else if (ts.isClassDeclaration(st)) {
      addClass(st.name?.text ?? "default", st, isExported(st, st.name?.text));
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        if (!ts.isIdentifier(d.name)) continue;
        const init = unwrap(d.initializer);
        const exported = isExported(st, d.name.text);
        if (isFn(init))
          add("function", d.name.text, st.declarationList.declarations.length === 1 ? st : d, exported);
        else if (init && ts.isClassExpression(init)) addClass(d.name.text, init, exported);
        else if (init && ts.isObjectLiteralExpression(init)) addObjectMethods(d.name.text, init, exported);
      }
    } else if (ts.isExpressionStatement(st) && ts.isBinaryExpression(st.expression)) {
      // CommonJS: exports.name = function () {}, module.exports.name = () => {}
      const { left, right, operatorToken } = st.expression;
      if (operatorToken.kind !== ts.SyntaxKind.EqualsToken || !ts.isPropertyAccessExpression(left)) continue;
      const target = left.expression.getText(sf);
      if (target !== "exports" && target !== "module.exports") continue;
      const r = unwrap(right);
      if (isFn(r)) add("function", left.name.text, st, true);
      else if (r && ts.isClassExpression(r)) addClass(left.name.text, r, true);
    } else if (ts.isExportAssignment(st)) {
      const e = unwrap(st.expression);
      if (isFn(e)) add("function", "default", st, true);
      else if (e && ts.isClassExpression(e)) addClass(e.name?.text ?? "default", e, true);
    }
  }
  return out;
}

/**
 * Names a module exports other than by a modifier on their declaration: `export { a, b as c }`,
 * `export default name`, `module.exports = { a, b }` and `module.exports = name`.
 */
function exportedNames(sf: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const fromObject = (e: ts.Expression) => {
    if (ts.isIdentifier(e)) names.add(e.text);
    else if (ts.isObjectLiteralExpression(e)) {
      for (const p of e.properties) {
        if (ts.isShorthandPropertyAssignment(p)) names.add(p.name.text);
        else if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.initializer)) names.add(p.initializer.text);
      }
    }
  };
  for (const st of sf.statements) {
    if (
      ts.isExportDeclaration(st) &&
      !st.moduleSpecifier &&
      st.exportClause &&
      ts.isNamedExports(st.exportClause)
    ) {
      for (const el of st.exportClause.elements) names.add((el.propertyName ?? el.name).text);
    } else if (ts.isExportAssignment(st)) {
      fromObject(st.expression);
    } else if (ts.isExpressionStatement(st) && ts.isBinaryExpression(st.expression)) {
      const { left, right, operatorToken } = st.expression;
      if (operatorToken.kind !== ts.SyntaxKind.EqualsToken) continue;
      if (left.getText(sf) === "module.exports") fromObject(right);
      else if (
        ts.isPropertyAccessExpression(left) &&
        /^(?:module\.)?exports$/.test(left.expression.getText(sf)) &&
        ts.isIdentifier(right)
      ) {
        names.add(right.text);
      }
    }
  }
  return names;
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
      exported: !b.qualified.split(".").some((part) => part.startsWith("_")),
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

/**
 * Go: top-level `func`, methods (`func (r *T) Name`) and `type` declarations, laid out as gofmt
 * writes them: a body's opening brace ends its signature line and its closing brace starts a
 * line at column 0.
 */
function extractGoSymbols(path: string, text: string): CodeSymbol[] {
  const lines = text.split(/\r?\n/);
  const pkg = /^\s*package\s+(\w+)/m.exec(text)?.[1];
  const publicPkg = pkg !== "main" && !/_test\.go$/.test(path);
  const out: CodeSymbol[] = [];
  const exportedName = (n: string) => /^[A-Z]/.test(n);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fn = /^func\s+(?:\(\s*\w*\s*\*?\s*(\w+)(?:\[[^\]]*\])?\s*\)\s*)?(\w+)/.exec(line);
    const ty = fn ? null : /^type\s+(\w+)/.exec(line);
    if (!fn && !ty) continue;
    let end = i;
    if (/\{\s*(?:\/\/.*)?$/.test(line) && !/^type\s+\w+.*\{\s*\}\s*$/.test(line)) {
      end = lines.findIndex((l, j) => j > i && /^[})]/.test(l));
      if (end < 0) end = lines.length - 1;
    } else if (fn && !line.includes("{")) {
      // A signature over several lines: the body opens on the first line ending with `{`.
      let j = i;
      while (j < lines.length - 1 && !/\{\s*$/.test(lines[j])) j++;
      end = lines.findIndex((l, k) => k > j && /^\}/.test(l));
      if (end < 0) end = lines.length - 1;
    }
    const blockText = lines.slice(i, end + 1).join("\n");
    const receiver = fn?.[1];
    const simpleName = fn ? fn[2] : (ty?.[1] ?? "");
    const bodyLines = meaningfulLines(blockText, "c");
    out.push({
      kind: ty ? "class" : receiver ? "method" : "function",
      name: receiver ? `${receiver}.${simpleName}` : simpleName,
      simpleName,
      file: path,
      lines: bodyLines.length,
      shape: shapeOf(blockText, simpleName, "c"),
      bodyLines,
      parent: receiver,
      exported: publicPkg && exportedName(simpleName) && (!receiver || exportedName(receiver)),
    });
    i = Math.max(i, end);
  }
  return out;
}
