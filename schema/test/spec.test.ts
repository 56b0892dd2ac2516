// The spec parser: front matter, defaults, field errors, durations and the dedup key.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dedupKey, formatDuration, parseDuration, parseSpec, renderSpec } from "../src/spec";

const full = `---
title: Negative feedback dispatch throttling
repo: mtor
base: main
provider: zhipu
harness: claude
model: glm-5.1
targets: [src/dispatch.ts]
tests: [test_throttle_backoff, test_throttle_recovers]
stop: Stop after these 2 tests. Do not add more.
paths: [src/, test/]
timeout: 2h
attempts: 3
priority: 5
after: [k3f9x2ab]
---
Free-form instructions for the agent.
`;

function errorsOf(text: string, params?: Record<string, string>) {
  const r = parseSpec(text, params);
  if (r.ok) throw new Error("expected the spec to be refused");
  return r.errors;
}

/** Nine anchors, each a list of nine of the one before: 9^9 strings if every alias were expanded. */
function aliasBomb(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const name = String.fromCharCode(97 + i);
    const prev = `*${String.fromCharCode(96 + i)}`;
    lines.push(`${name}: &${name} [${Array(9).fill(prev).join(",")}]`);
  }
  return `---\n${lines.join("\n")}\ntitle: *i\n---\nBody.\n`;
}

describe("parseSpec on hostile front matter", () => {
  it("refuses a YAML alias bomb as invalid front matter instead of expanding or throwing", () => {
    const r = parseSpec(aliasBomb());
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors[0]).toMatchObject({ field: "front_matter" });
    expect(!r.ok && r.errors[0].message).toMatch(/invalid YAML: .*alias/i);
  });

  it("never throws, whatever the front matter holds", () => {
    const yamlish = fc.string({
      unit: fc.constantFrom(
        "a",
        ":",
        " ",
        "\n",
        "&x",
        "*x",
        "[",
        "]",
        "{",
        "}",
        "-",
        "!",
        "!!",
        "'",
        '"',
        "#",
        "|",
        ">",
        "?",
        ",",
        "title",
        "tests",
        "\t",
      ),
      maxLength: 200,
    });
    fc.assert(
      fc.property(yamlish, fc.string({ maxLength: 50 }), (fm, body) => {
        const r = parseSpec(`---\n${fm}\n---\n${body}`);
        expect(typeof r.ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });
});

describe("parseSpec", () => {
  it("parses every field of a spec that sets them all", () => {
    const r = parseSpec(full);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.spec).toMatchObject({
      title: "Negative feedback dispatch throttling",
      repo: "mtor",
      base: "main",
      provider: "zhipu",
      harness: "claude",
      model: "glm-5.1",
      targets: ["src/dispatch.ts"],
      tests: ["test_throttle_backoff", "test_throttle_recovers"],
      stop: "Stop after these 2 tests. Do not add more.",
      paths: ["src/", "test/"],
      timeout_s: 7200,
      attempts: 3,
      priority: 5,
      after: ["k3f9x2ab"],
      body: "Free-form instructions for the agent.",
    });
    expect(r.warnings).toEqual([]);
  });

  it("applies defaults and takes the title from the body's first line without front matter", () => {
    const r = parseSpec("# Add a freeze switch\n\nMake it work.\n", { repo: "mtor" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.spec.title).toBe("Add a freeze switch");
    expect(r.spec.body).toBe("Make it work.");
    expect(r.spec.provider).toBe("any");
    expect(r.spec.timeout_s).toBe(7200);
    expect(r.spec.attempts).toBe(3);
    expect(r.spec.priority).toBe(0);
    expect(r.warnings.join("\n")).toMatch(/no `tests`/);
    expect(r.warnings.join("\n")).toMatch(/no `stop`/);
  });

  it("lets front matter win over query parameters", () => {
    const r = parseSpec("---\ntitle: T\nrepo: a\npriority: 2\n---\nbody", {
      repo: "b",
      priority: "9",
      tests: "x,y",
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.spec.repo).toBe("a");
    expect(r.spec.priority).toBe(2);
    expect(r.spec.tests).toEqual(["x", "y"]);
  });

  it("names each bad field at once", () => {
    const errors = errorsOf("---\ntitle: ''\nfoo: 1\ntimeout: 2 days\nattempts: 0\n---\nbody");
    const fields = errors.map((e) => e.field).sort();
    expect(fields).toEqual(["attempts", "foo", "repo", "timeout", "title"]);
    expect(errors.find((e) => e.field === "foo")?.message).toMatch(/unknown field/);
    expect(errors.find((e) => e.field === "timeout")?.message).toMatch(/bad duration/);
    expect(errors.find((e) => e.field === "repo")?.message).toMatch(/required/);
  });

  it("reports invalid YAML with its line", () => {
    const errors = errorsOf("---\ntitle: a\nrepo: [unclosed\n---\nbody");
    expect(errors[0].field).toBe("front_matter");
    expect(errors[0].message).toMatch(/invalid YAML/);
  });

  it("refuses front matter that is not a mapping", () => {
    expect(errorsOf("---\n- a\n- b\n---\nbody")[0].message).toMatch(/mapping/);
  });

  it("refuses a missing title when the body is empty too", () => {
    expect(errorsOf("", { repo: "mtor" }).map((e) => e.field)).toEqual(["title"]);
  });
});

describe("durations", () => {
  it("parses units s, m, h and combinations", () => {
    expect(parseDuration("45s")).toBe(45);
    expect(parseDuration("90m")).toBe(5400);
    expect(parseDuration("2h")).toBe(7200);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("2")).toBeNull();
    expect(parseDuration("2d")).toBeNull();
    expect(parseDuration("")).toBeNull();
    expect(formatDuration(5400)).toBe("1h30m");
  });
});

describe("dedupKey", () => {
  it("ignores whitespace and list order but not content", async () => {
    const a = { repo: "r", base: "main", body: "Do  the\nthing", targets: ["a", "b"], tests: ["t1", "t2"] };
    const b = { repo: "r", base: "main", body: "Do the thing\n", targets: ["b", "a"], tests: ["t2", "t1"] };
    const c = { ...a, body: "Do another thing" };
    expect(await dedupKey(a)).toBe(await dedupKey(b));
    expect(await dedupKey(a)).not.toBe(await dedupKey(c));
    expect(await dedupKey(a)).not.toBe(await dedupKey({ ...a, repo: "other" }));
  });
});

describe("renderSpec", () => {
  it("round-trips through parseSpec", () => {
    const r = parseSpec(full);
    if (!r.ok) throw new Error("parse failed");
    const again = parseSpec(renderSpec(r.spec));
    expect(again.ok && again.spec).toEqual(r.spec);
  });
});
