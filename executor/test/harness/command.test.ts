// Command harnesses from a config template, run as real processes against the demo provider.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoProvider, startDemoProvider } from "../../src/demo/provider";
import { createCommandHarness, expandTemplate } from "../../src/harness/command";
import { getHarness } from "../../src/harness/index";
import { buildPreflightPrompt } from "../../src/prompt";
import { demoProviderConfig, liveGroupMembers, makeWorkspace, type Workspace } from "./fixtures";

let provider: DemoProvider;
const workspaces: Workspace[] = [];
beforeAll(async () => {
  provider = await startDemoProvider();
});
afterAll(async () => {
  await provider.close();
  for (const w of workspaces) w.cleanup();
});
function workspace(): Workspace {
  const w = makeWorkspace();
  workspaces.push(w);
  return w;
}
function base(w: Workspace, timeoutMs = 30_000) {
  return {
    cwd: w.repo,
    home: w.home,
    provider: demoProviderConfig(provider.url, "notes"),
    model: "demo",
    timeoutMs,
  };
}

// A tiny agent: writes the prompt to NOTES.md and commits it.
const notes = createCommandHarness({
  name: "notes",
  command: [
    "sh",
    "-c",
    'printf "%s\\n" "$1" > NOTES.md && git add NOTES.md && git commit -q -m "notes for $2" && echo done',
    "notes",
    "{prompt}",
    "{model}",
  ],
});

// A tiny model client: asks the provider once and prints the answer's text.
const ASK = `
const [base, model, prompt] = process.argv.slice(1);
const res = await fetch(base + "/v1/messages", {
  method: "POST",
  headers: { "content-type": "application/json", "x-api-key": process.env.ANTHROPIC_API_KEY },
  body: JSON.stringify({ model, max_tokens: 64, messages: [{ role: "user", content: prompt }] }),
});
const body = await res.json();
if (!res.ok) { console.error(res.status, JSON.stringify(body)); process.exit(1); }
console.log("asking " + model + " ...");
console.log(body.content.map((b) => b.text ?? "").join(""));
`;
const ask = createCommandHarness({
  name: "ask",
  command: ["node", "--input-type=module", "-e", ASK, "{base_url}", "{model}", "{prompt}"],
});

describe("command harness", () => {
  it("expands {prompt}, {model}, {base_url} and {prompt_file} inside arguments without splitting them", () => {
    const values = {
      prompt: "fix it; rm -rf /",
      promptFile: "/h/p.md",
      model: "glm-5.1",
      baseUrl: "http://x",
    };
    expect(expandTemplate(["goose", "run", "-t", "{prompt}"], values)).toEqual({
      argv: ["goose", "run", "-t", "fix it; rm -rf /"],
      promptOnStdin: false,
    });
    expect(
      expandTemplate(["agent", "--model={model}", "--url", "{base_url}/v1", "@{prompt_file}"], values).argv,
    ).toEqual(["agent", "--model=glm-5.1", "--url", "http://x/v1", "@/h/p.md"]);
    expect(expandTemplate(["agent", "--stdin"], values).promptOnStdin).toBe(true);
  });

  it("runs a shell template in the worktree with the prompt and commits", async () => {
    const w = workspace();
    const result = await notes.run({ ...base(w), prompt: "Write the notes." });
    expect(result.failure).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(readFileSync(join(w.repo, "NOTES.md"), "utf8")).toBe("Write the notes.\n");
    expect(w.git("log", "-1", "--format=%s|%an")).toBe("notes for demo|mtor agent");
    expect(result.logTail).toContain("done");
  });

  it("reports a non-zero exit as harness with the output's last lines", async () => {
    const w = workspace();
    const failing = createCommandHarness({
      name: "broken",
      command: ["sh", "-c", "echo cannot work here >&2; exit 3"],
    });
    const result = await failing.run({ ...base(w), prompt: "x" });
    expect(result.failure?.kind).toBe("harness");
    expect(result.failure?.message).toContain("exited with code 3");
    expect(result.failure?.message).toContain("cannot work here");
  });

  it("preflights through the provider and classifies the provider's errors", async () => {
    const w = workspace();
    expect(await ask.preflight(base(w))).toMatchObject({ ok: true });
    const overloaded = await ask.preflight({
      ...base(w),
      prompt: buildPreflightPrompt("<!-- mtor-demo: error_529 -->"),
    });
    expect(overloaded).toMatchObject({ ok: false, failure: { kind: "preflight" } });
    const limited = await ask.run({ ...base(w), prompt: "go <!-- mtor-demo: rate_limit retry_after=42 -->" });
    expect(limited.failure).toMatchObject({ kind: "rate_limited", retry_after_s: 42 });
    const empty = await ask.preflight({
      ...base(w),
      prompt: buildPreflightPrompt("<!-- mtor-demo: empty -->"),
    });
    expect(empty.ok).toBe(false);
    if (!empty.ok) expect(empty.failure.message).toContain('answered "asking demo ..."');
  });

  it("kills the template's whole process group, grandchildren included, on timeout", async () => {
    const w = workspace();
    const sleeper = createCommandHarness({
      name: "sleeper",
      command: ["sh", "-c", "sleep 300 & sleep 300 & wait"],
    });
    const started = Date.now();
    const result = await sleeper.run({ ...base(w, 1_000), prompt: "x" });
    expect(result.failure?.kind).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(liveGroupMembers(result.pgid as number)).toEqual([]);
  });

  it("is found by name in the registry next to claude and opencode", () => {
    const harnesses = { notes: { name: "notes", command: ["sh", "-c", "true"] } };
    expect(getHarness("notes", { commandHarnesses: harnesses }).name).toBe("notes");
    expect(getHarness("claude").name).toBe("claude");
    expect(getHarness("opencode").name).toBe("opencode");
    expect(() => getHarness("goose", { commandHarnesses: harnesses })).toThrow(
      /known: claude, opencode, notes/,
    );
  });
});
