// `paths` globs: what they match, that a bad pattern is named at dispatch and never throws, and
// that pathological patterns cost time bounded by pattern length times path length.
import { describe, expect, it } from "vitest";
import { compileGlob, globProblem, matchGlob } from "../src/glob";
import { parseSpec } from "../src/spec";

const m = (glob: string, path: string) => matchGlob(compileGlob(glob), path);

describe("matchGlob", () => {
  it("matches segments, classes and globstars, and covers what is under a matched directory", () => {
    expect(m("test/**/*.test.ts", "test/a/b.test.ts")).toBe(true);
    expect(m("test/**/*.test.ts", "test/b.test.ts")).toBe(true);
    expect(m("test/**/*.test.ts", "test/b.ts")).toBe(false);
    expect(m("src/*.ts", "src/a.ts")).toBe(true);
    expect(m("src/*.ts", "src/deep/a.ts")).toBe(false);
    expect(m("src/[a-c]*.ts", "src/beta.ts")).toBe(true);
    expect(m("src/[!a-c]*.ts", "src/beta.ts")).toBe(false);
    expect(m("src/?.ts", "src/a.ts")).toBe(true);
    expect(m("src/?.ts", "src/ab.ts")).toBe(false);
    expect(m("src/leg*", "src/legacy/a/b.ts")).toBe(true);
    expect(m("**/fixtures", "a/b/fixtures/x.json")).toBe(true);
    expect(m("src/\\*.ts", "src/*.ts")).toBe(true);
    expect(m("src/\\*.ts", "src/a.ts")).toBe(false);
  });

  it("takes twelve `**/` segments against a deep path in linear time", () => {
    const glob = `${"**/".repeat(12)}x`;
    const deep = `${Array.from({ length: 200 }, (_, i) => `d${i}`).join("/")}/y`;
    const started = performance.now();
    expect(m(glob, deep)).toBe(false);
    expect(m(`${"**/a*".repeat(12)}/z`, `${"a/".repeat(300)}b`)).toBe(false);
    expect(m(`${"*a".repeat(40)}b`, "a".repeat(2000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("never throws on a bad pattern; it matches nothing", () => {
    expect(() => m("src/[z-a].ts", "src/a.ts")).not.toThrow();
    expect(m("src/[z-a].ts", "src/a.ts")).toBe(false);
    expect(m("src/[abc", "src/a")).toBe(false);
  });
});

describe("globProblem", () => {
  it.each([
    ["src/[z-a].ts", /runs backwards/],
    ["src/[abc", /no closing/],
    ["../secrets/*", /'\.\.'/],
    ["src//*.ts", /empty path segment/],
  ])("names what is wrong with %s", (pattern, problem) => {
    expect(globProblem(pattern)).toMatch(problem);
  });

  it("accepts plain paths and ordinary globs", () => {
    for (const p of ["src/", "src", "./src/a.ts", "src/**/*.ts", "**", "test/[a-z]*_test.go"]) {
      expect(globProblem(p), p).toBeNull();
    }
  });

  it("makes dispatch refuse the spec naming the pattern", () => {
    const r = parseSpec("---\ntitle: t\nrepo: r\npaths: [src/, 'src/[z-a].ts']\n---\nx\n");
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toEqual([
        { field: "paths.1", message: expect.stringContaining('bad pattern "src/[z-a].ts"') },
      ]);
    }
  });
});
