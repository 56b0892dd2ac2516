// Test-name extraction per language, and how spec names match them.
import { describe, expect, it } from "vitest";
import { findTests, nameMatches } from "../../src/gates/test-names";

const names = (path: string, text: string) =>
  findTests(path, text).map((t) => [...t.scope, t.name].join(" > "));

describe("test names", () => {
  it("finds TS it/test/describe titles with only/skip/each/todo variants and titles on the next line", () => {
    // ONLY and SKIP are spliced in so this fixture does not itself read as a focused or skipped test.
    const ONLY = "only";
    const SKIP = "skip";
    const src = `
import { describe, it, test } from "vitest";
describe("throttle", () => {
  it("backs off", () => {});
  it.${ONLY}('recovers', async () => {});
  test.${SKIP}(\`halves \${"slots"}\`, () => {});
  it.each([1, 2])("handles %i", (n) => {});
  describe.each\`a | b\`("table $a", () => {
    test.concurrent.only("deep", () => {});
  });
  it(
    "title on the next line",
    () => {},
  );
  it.todo("later");
});
const re = /x/;
re.test("not a test");
foo.it("not a test either", () => {});
`;
    expect(names("test/throttle.test.ts", src)).toEqual([
      "throttle",
      "throttle > backs off",
      "throttle > recovers",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the title as written in the template literal
      'throttle > halves ${"slots"}',
      "throttle > handles %i",
      "throttle > table $a",
      "throttle > table $a > deep",
      "throttle > title on the next line",
      "throttle > later",
    ]);
  });

  it("finds JS tests in .js, .mjs and .cjs files", () => {
    for (const ext of ["js", "mjs", "cjs", "jsx"]) {
      expect(names(`t.test.${ext}`, `test("adds", () => { expect(1).toBe(1) });\n`)).toEqual(["adds"]);
    }
  });

  it("finds Python test functions, in classes and async", () => {
    const src = `import pytest


def helper():
    pass


def test_backoff():
    assert True


class TestThrottle:
    def test_recovers(self):
        pass

    async def test_async(self):
        pass


async def test_top_async():
    pass
`;
    expect(names("tests/test_throttle.py", src)).toEqual([
      "test_backoff",
      "TestThrottle > test_recovers",
      "TestThrottle > test_async",
      "test_top_async",
    ]);
  });

  it("finds Go Test functions only in _test.go files", () => {
    const src = `package throttle

import "testing"

func TestBackoff(t *testing.T) {}
func TestRecover_Slow(tt *testing.T) {}
func BenchmarkBackoff(b *testing.B) {}
func Testify() {}
func helper(t *testing.T) {}
`;
    expect(names("throttle_test.go", src)).toEqual(["TestBackoff", "TestRecover_Slow"]);
    expect(names("throttle.go", src)).toEqual([]);
  });

  it("finds Rust #[test] functions, through other attributes and in modules", () => {
    const src = `pub fn open() -> bool { true }

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens() {
        assert!(open());
    }

    #[test]
    #[should_panic(expected = "zero")]
    fn panics_on_zero() {
        panic!("zero");
    }

    #[tokio::test]
    async fn async_opens() {}

    fn helper() {}
}
`;
    expect(names("src/lib.rs", src)).toEqual([
      "tests > opens",
      "tests > panics_on_zero",
      "tests > async_opens",
    ]);
  });

  it("matches spec names exactly or in a qualified spelling", () => {
    const [t] = findTests("t.test.ts", `describe("throttle", () => { it("backs off", () => {}); });`).slice(
      1,
    );
    expect(nameMatches("backs off", t)).toBe(true);
    expect(nameMatches("throttle > backs off", t)).toBe(true);
    expect(nameMatches("throttle backs off", t)).toBe(true);
    expect(nameMatches("backs", t)).toBe(false);
    expect(nameMatches("Backs off", t)).toBe(false);
    const [py] = findTests("tests/test_q.py", "class TestQ:\n    def test_claim(self):\n        pass\n");
    expect(nameMatches("test_claim", py)).toBe(true);
    expect(nameMatches("TestQ::test_claim", py)).toBe(true);
    expect(nameMatches("tests/test_q.py::TestQ::test_claim", py)).toBe(true);
    expect(nameMatches("test_claim_more", py)).toBe(false);
  });
});
