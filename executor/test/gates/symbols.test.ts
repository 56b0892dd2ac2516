// Symbol extraction for destruction, path scopes, and the spec-naming exemption.
import { describe, expect, it } from "vitest";
import { inScope } from "../../src/gates/scope";
import { extractSymbols } from "../../src/gates/symbols";

describe("symbols", () => {
  it("lists TS functions, classes, methods, accessors, arrow consts and object methods", () => {
    const src = `
export function a(x: number): number {
  return x;
}
export function over(x: string): string;
export function over(x: number): number;
export function over(x: unknown) { return x; }
export default function () { return 1; }
export const b = (n: number) => n + 1;
const c = async function named() {};
export const d = 5;
export class Q<T> {
  private x = 1;
  handler = () => this.x;
  constructor() {}
  get size() { return 1; }
  set size(v: number) {}
  claim(n: number) { return n; }
  abstractish?(): void;
}
export const api = {
  list() { return []; },
  get: async () => 1,
  value: 3,
};
interface I { f(): void }
`;
    expect(extractSymbols("src/x.ts", src).map((s) => `${s.kind}:${s.name}`)).toEqual([
      "function:a",
      "function:over",
      "function:default",
      "function:b",
      "function:c",
      "class:Q",
      "method:Q.handler",
      "method:Q.constructor",
      "method:Q.get size",
      "method:Q.set size",
      "method:Q.claim",
      "method:api.list",
      "method:api.get",
    ]);
  });

  it("lists Python functions, classes, methods (nested classes too) but not inner functions", () => {
    const src = `
import x

@decorator
def top(a,
        b):
    def inner():
        pass
    s = """
def not_a_function():
    pass
"""
    return inner


class Outer(Base):
    """Doc."""

    def method(self):
        return 1

    class Inner:
        async def deep(self):
            return 2

    @property
    def prop(self):
        return 3


def after():
    pass
`;
    const syms = extractSymbols("app/x.py", src);
    expect(syms.map((s) => `${s.kind}:${s.name}`).sort()).toEqual(
      [
        "function:top",
        "class:Outer",
        "method:Outer.method",
        "class:Outer.Inner",
        "method:Outer.Inner.deep",
        "method:Outer.prop",
        "function:after",
      ].sort(),
    );
    const top = syms.find((s) => s.name === "top");
    // decorator, two signature lines, the inner def, the string and the return: blank lines do not count
    expect(top?.lines).toBe(10);
  });

  it("gives equal shapes to a renamed function with the same body", () => {
    const [a] = extractSymbols(
      "a.ts",
      "function foo(n: number) {\n  // why\n  return n > 0 ? foo(n - 1) : 0;\n}\n",
    );
    const [b] = extractSymbols("b.ts", "function bar(n: number) {\n  return n > 0 ? bar(n - 1) : 0;\n}\n");
    expect(a.shape).toBe(b.shape);
  });
});

describe("scope", () => {
  it("treats entries as prefixes, files, directories or globs", () => {
    expect(inScope("src/a.ts", ["src/"])).toBe(true);
    expect(inScope("src/a.ts", ["src"])).toBe(true);
    expect(inScope("srcx/a.ts", ["src"])).toBe(false);
    expect(inScope("README.md", ["README.md"])).toBe(true);
    expect(inScope("test/a/b.test.ts", ["test/**/*.test.ts"])).toBe(true);
    expect(inScope("test/b.test.ts", ["test/**/*.test.ts"])).toBe(true);
    expect(inScope("test/b.ts", ["test/**/*.test.ts"])).toBe(false);
    expect(inScope("src/a.ts", ["src/*.ts"])).toBe(true);
    expect(inScope("src/deep/a.ts", ["src/*.ts"])).toBe(false);
    expect(inScope("src/a.ts", ["./src/"])).toBe(true);
    // A pattern dispatch would refuse never throws here, and a pathological one is fast.
    expect(inScope("src/a.ts", ["src/[z-a].ts"])).toBe(false);
    const started = performance.now();
    expect(inScope(`${"d/".repeat(200)}y`, [`${"**/".repeat(12)}x`])).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
