// Reading what a spec asks for the names it mentions: only `removes` and prose where a removal
// verb governs the name license deleting it; a mention, or a request to add to it, does not.
import { describe, expect, it } from "vitest";
import { intentFor, readIntent, removesPath, removesSymbol } from "../src/intent";
import { lintSpec, parseSpec } from "../src/spec";

const sym = (name: string, file = "src/a.ts") => ({ name, simpleName: name.split(".").pop() ?? name, file });
const kindOf = (body: string, name: string, removes: string[] = []) =>
  intentFor(readIntent(body, removes), sym(name))?.kind;

describe("readIntent", () => {
  it("takes every `removes` entry as a removal: symbols, qualified methods and directories", () => {
    const i = readIntent("Add throttling.", ["legacy_dispatch", "Queue.claim", "src/old/"]);
    expect(removesSymbol(i, sym("legacy_dispatch"))).toBe(true);
    expect(removesSymbol(i, sym("Queue.claim"))).toBe(true);
    expect(removesSymbol(i, sym("Other.claim"))).toBe(false);
    expect(removesPath(i, "src/old/x.ts")).toBe(true);
    expect(removesSymbol(i, sym("anything", "src/old/x.ts"))).toBe(true);
    expect(removesPath(i, "src/older.ts")).toBe(false);
  });

  it("asking to add to or extend a symbol never exempts it", () => {
    expect(kindOf("Add a jitter parameter to `pickProvider`.", "pickProvider")).toBe("extend");
    expect(kindOf("Log the decision in `Scheduler.next`.", "Scheduler.next")).toBe("extend");
    expect(kindOf("Extend should_dispatch() to check the cooldown.", "should_dispatch")).toBe("extend");
    expect(kindOf("See `pickProvider` for how it works.", "pickProvider")).toBe("extend");
    const m = intentFor(readIntent("Add a jitter parameter to `pickProvider`."), sym("pickProvider"));
    expect(m?.verb).toBe("add");
    expect(
      intentFor(readIntent("Add a cooldown check to `should_dispatch()`."), sym("should_dispatch"))?.verb,
    ).toBe("add");
    // A removal verb's spelling used as a noun or adjective removes nothing.
    expect(kindOf("Add an inline `cache_key` helper.", "cache_key")).toBe("extend");
    expect(kindOf("Give `render` a drop shadow.", "render")).toBe("extend");
  });

  it("a removal verb governs the names after it, up to a preposition", () => {
    expect(kindOf("Remove `legacy_dispatch`.", "legacy_dispatch")).toBe("remove");
    expect(kindOf("Delete the unused helper retryLater() and `old_claim`.", "retryLater")).toBe("remove");
    expect(kindOf("Delete the unused helper retryLater() and `old_claim`.", "old_claim")).toBe("remove");
    expect(kindOf("Replace `legacy_dispatch` with `dispatch_v2`.", "legacy_dispatch")).toBe("remove");
    expect(kindOf("Replace `legacy_dispatch` with `dispatch_v2`.", "dispatch_v2")).toBe("extend");
    expect(kindOf("Inline `fmt_row` into `render_table`.", "fmt_row")).toBe("remove");
    expect(kindOf("Inline `fmt_row` into `render_table`.", "render_table")).toBe("extend");
    expect(kindOf("Rename `getThing` to `fetchThing`.", "getThing")).toBe("remove");
    expect(kindOf("Remove the retry check in `pickProvider`.", "pickProvider")).toBe("extend");
    expect(kindOf("Rewrite Queue.claim so it takes a lease.", "Queue.claim")).toBe("remove");
    expect(kindOf("Drop `old_path` support.", "old_path")).toBe("remove");
  });

  it("a negated removal protects the name", () => {
    expect(kindOf("Do not remove `pickProvider`.", "pickProvider")).toBe("keep");
    expect(kindOf("Don't delete `pickProvider`; add a parameter.", "pickProvider")).toBe("keep");
    expect(kindOf("Never rewrite `should_dispatch`.", "should_dispatch")).toBe("keep");
    expect(kindOf("Add jitter to `pick` without replacing `pickProvider`.", "pickProvider")).toBe("keep");
    expect(kindOf("`should_dispatch` must not be removed.", "should_dispatch")).toBe("keep");
    expect(kindOf("Keep `should_dispatch` as it is.", "should_dispatch")).toBe("keep");
    // A later clause with its own verb is not negated.
    expect(kindOf("Do not touch the tests, but remove `old_fn`.", "old_fn")).toBe("remove");
    expect(kindOf("Don't add tests and remove `old_fn`.", "old_fn")).toBe("remove");
    // `removes` is explicit and wins over prose.
    expect(kindOf("Do not remove `old_fn`.", "old_fn", ["old_fn"])).toBe("remove");
  });

  it("reads the passive and lists introduced by a removal verb", () => {
    expect(kindOf("`legacy_dispatch` is dead and should be removed.", "legacy_dispatch")).toBe("remove");
    const list = "Delete these:\n\n- `old_a`\n- `old_b`\n\nThen add `new_c` to `router`.";
    expect(kindOf(list, "old_a")).toBe("remove");
    expect(kindOf(list, "old_b")).toBe("remove");
    expect(kindOf(list, "router")).toBe("extend");
  });

  it("a sentence ends the verb's reach", () => {
    expect(kindOf("Remove the flag. `pickProvider` then needs a jitter parameter.", "pickProvider")).toBe(
      "extend",
    );
    expect(kindOf("Remove the flag.\n\n`pickProvider` gets jitter.", "pickProvider")).toBe("extend");
  });

  it("removes files and directories only when a removal verb governs them", () => {
    expect(removesPath(readIntent("delete src/old.ts"), "src/old.ts")).toBe(true);
    expect(removesPath(readIntent("delete old.ts"), "src/old.ts")).toBe(true);
    expect(removesPath(readIntent("delete bold.ts"), "src/old.ts")).toBe(false);
    expect(removesPath(readIntent("Remove src/legacy/ entirely."), "src/legacy/a/b.ts")).toBe(true);
    expect(removesPath(readIntent("Remove the src/legacy directory."), "src/legacy/b.ts")).toBe(true);
    expect(removesPath(readIntent("Remove src/legacy-v2/."), "src/legacy/b.ts")).toBe(false);
    expect(removesPath(readIntent("Work in src/ only."), "src/b.ts")).toBe(false);
    expect(removesPath(readIntent("Add a check to src/old.ts."), "src/old.ts")).toBe(false);
    expect(removesPath(readIntent("Do not delete src/old.ts."), "src/old.ts")).toBe(false);
  });

  it("ignores fenced code blocks", () => {
    expect(kindOf("Add jitter.\n\n```\nremove(pickProvider)\n```\n", "pickProvider")).toBeUndefined();
  });
});

describe("spec_lint", () => {
  it("warns, structured, when the body replaces or rewrites a name `removes` does not list", () => {
    const lint = lintSpec({
      body: "Replace `legacy_dispatch` with a table.",
      removes: [],
      tests: ["t"],
      stop: "s",
    });
    expect(lint).toEqual([
      expect.objectContaining({ code: "replace_not_removed", field: "removes", name: "legacy_dispatch" }),
    ]);
    expect(
      lintSpec({ body: "Replace `legacy_dispatch`.", removes: ["legacy_dispatch"], tests: ["t"], stop: "s" }),
    ).toEqual([]);
    // Other removal verbs are clear enough on their own.
    expect(lintSpec({ body: "Delete `legacy_dispatch`.", removes: [], tests: ["t"], stop: "s" })).toEqual([]);
  });

  it("parses `removes` from front matter, validates it and lints on it", () => {
    const ok = parseSpec(
      "---\ntitle: t\nrepo: r\nremoves: [legacy_dispatch, Queue.claim, src/old/]\n---\nRewrite `router`.\n",
    );
    if (!ok.ok) throw new Error(JSON.stringify(ok.errors));
    expect(ok.spec.removes).toEqual(["legacy_dispatch", "Queue.claim", "src/old/"]);
    expect(ok.lint.map((l) => l.code)).toEqual(["no_tests", "no_stop", "replace_not_removed"]);
    expect(ok.warnings[2]).toMatch(/^spec_lint: the body asks to rewrite `router`/);
    const one = parseSpec("---\ntitle: t\nrepo: r\nremoves: legacy_dispatch\n---\nx\n");
    expect(one.ok && one.spec.removes).toEqual(["legacy_dispatch"]);
    const bad = parseSpec('---\ntitle: t\nrepo: r\nremoves: [""]\n---\nx\n');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0].field).toBe("removes.0");
    const none = parseSpec("---\ntitle: t\nrepo: r\n---\nx\n");
    expect(none.ok && none.spec.removes).toEqual([]);
  });
});
