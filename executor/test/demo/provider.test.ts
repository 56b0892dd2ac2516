// The demo provider speaks the Anthropic Messages API: SSE and JSON answers, scripted errors,
// directives, fault profiles, and its CLI entry.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { decideFault, seededRandom } from "../../src/demo/faults";
import { type DemoProvider, startDemoProvider } from "../../src/demo/provider";
import { parseDirective, readList } from "../../src/demo/scripts";
import { buildPreflightPrompt, buildPrompt, PREFLIGHT_PROMPT } from "../../src/prompt";

const providers: DemoProvider[] = [];
afterEach(async () => {
  for (const p of providers.splice(0)) await p.close();
});
async function start(opts: Parameters<typeof startDemoProvider>[0] = {}): Promise<DemoProvider> {
  const p = await startDemoProvider(opts);
  providers.push(p);
  return p;
}

const TOOLS = [{ name: "Bash", description: "run a command", input_schema: { type: "object" } }];
const PROMPT = buildPrompt({
  body: "Add a helper.",
  targets: ["src/util.ts"],
  tests: ["clamps below", "clamps above"],
  stop: "Stop after 2 tests.",
});

function post(url: string, body: unknown, path = "/v1/messages"): Promise<Response> {
  return fetch(url + path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });
}

function parseSse(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split("\n\n")
    .filter((b) => b.trim())
    .map((block) => {
      const event = /^event: (.+)$/m.exec(block)?.[1] ?? "";
      const data = JSON.parse(/^data: (.+)$/m.exec(block)?.[1] ?? "{}") as Record<string, unknown>;
      return { event, data };
    });
}

describe("demo provider", () => {
  it("streams a tool_use turn as Anthropic SSE events with input_json_delta", async () => {
    const p = await start();
    const res = await post(p.url, {
      model: "demo",
      stream: true,
      max_tokens: 1000,
      tools: TOOLS,
      messages: [{ role: "user", content: PROMPT }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = parseSse(await res.text());
    const names = events.map((e) => e.event).filter((n) => n !== "content_block_delta");
    expect(names).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "content_block_stop",
      "content_block_start",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const start0 = events[0].data.message as { model: string; usage: { input_tokens: number } };
    expect(start0.model).toBe("demo");
    expect(start0.usage.input_tokens).toBeGreaterThan(0);
    const toolStart = events.find(
      (e) =>
        e.event === "content_block_start" && (e.data.content_block as { type: string }).type === "tool_use",
    );
    expect(toolStart?.data.content_block).toMatchObject({ type: "tool_use", name: "Bash", input: {} });
    const json = events
      .filter(
        (e) =>
          e.event === "content_block_delta" && (e.data.delta as { type: string }).type === "input_json_delta",
      )
      .map((e) => (e.data.delta as { partial_json: string }).partial_json)
      .join("");
    const input = JSON.parse(json) as { command: string };
    expect(input.command).toContain("src/util.ts");
    expect(input.command).toContain("export function clampsBelow(");
    const text = events
      .filter(
        (e) => e.event === "content_block_delta" && (e.data.delta as { type: string }).type === "text_delta",
      )
      .map((e) => (e.data.delta as { text: string }).text)
      .join("");
    expect(text).toContain("mtor demo model");
    const delta = events.find((e) => e.event === "message_delta")?.data as {
      delta: { stop_reason: string };
      usage: { output_tokens: number };
    };
    expect(delta.delta.stop_reason).toBe("tool_use");
    expect(delta.usage.output_tokens).toBeGreaterThan(0);
    expect(p.requests.at(-1)).toMatchObject({ script: "default", turn: 0, status: 200, preflight: false });
  });

  it("walks the default script turn by turn: target, tests, commit, then end_turn", async () => {
    const p = await start();
    const messages: Array<{ role: string; content: unknown }> = [{ role: "user", content: PROMPT }];
    const commands: string[] = [];
    for (let turn = 0; turn < 4; turn++) {
      const res = await post(p.url, { model: "demo", max_tokens: 1000, tools: TOOLS, messages });
      const body = (await res.json()) as {
        content: Array<{ type: string; id?: string; input?: { command: string }; text?: string }>;
        stop_reason: string;
      };
      const tool = body.content.find((b) => b.type === "tool_use");
      if (turn < 3) {
        expect(body.stop_reason).toBe("tool_use");
        commands.push(tool?.input?.command ?? "");
        messages.push({ role: "assistant", content: body.content });
        messages.push({
          role: "user",
          content: [{ type: "tool_result", tool_use_id: tool?.id, content: "ok" }],
        });
      } else {
        expect(body.stop_reason).toBe("end_turn");
        expect(tool).toBeUndefined();
        expect(body.content[0].text).toContain("scripted");
      }
    }
    expect(commands[1]).toContain("test/util.test.ts");
    expect(commands[1].match(/^test\(/gm)).toHaveLength(2);
    expect(commands[1]).toContain('test("clamps below"');
    expect(commands[2]).toMatch(/^git add 'src\/util.ts' 'test\/util.test.ts' && git commit/);
  });

  it("answers the preflight prompt with ok, and fails it under the error scripts", async () => {
    const p = await start();
    const ask = async (prompt: string) =>
      post(p.url, { model: "demo", max_tokens: 10, messages: [{ role: "user", content: prompt }] });
    const ok = (await (await ask(PREFLIGHT_PROMPT)).json()) as { content: Array<{ text: string }> };
    expect(ok.content[0].text).toBe("ok");
    const down = await ask(buildPreflightPrompt("<!-- mtor-demo: error_529 -->"));
    expect(down.status).toBe(529);
    expect(await down.json()).toEqual({
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    });
    const empty = (await (await ask(buildPreflightPrompt("x <!-- mtor-demo: empty --> y"))).json()) as {
      content: Array<{ text: string }>;
    };
    expect(empty.content).toEqual([{ type: "text", text: "" }]);
    const pushMain = (await (await ask(buildPreflightPrompt("<!-- mtor-demo: push_main -->"))).json()) as {
      content: Array<{ text: string }>;
    };
    expect(pushMain.content[0].text).toBe("ok");
  });

  it("answers 429 with retry-after, 401 and 500 as a real provider would", async () => {
    const p = await start({ retryAfterS: 90 });
    const limited = await post(p.url, {
      messages: [{ role: "user", content: "<!-- mtor-demo: rate_limit -->" }],
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("90");
    const custom = await post(p.url, {
      messages: [{ role: "user", content: "<!-- mtor-demo: rate_limit retry_after=5 -->" }],
    });
    expect(custom.headers.get("retry-after")).toBe("5");
    const auth = await post(p.url, {
      messages: [{ role: "user", content: "<!-- mtor-demo: auth_error -->" }],
    });
    expect(auth.status).toBe(401);
    expect(((await auth.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
    const broken = await post(p.url, {
      messages: [{ role: "user", content: "<!-- mtor-demo: error_500 -->" }],
    });
    expect(broken.status).toBe(500);
    const unknown = await post(p.url, { messages: [{ role: "user", content: "<!-- mtor-demo: nope -->" }] });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain(
      "known: default",
    );
  });

  it("hangs mid-stream until the client or close() ends it", async () => {
    const p = await start({ script: "hang" });
    const res = await post(p.url, { stream: true, messages: [{ role: "user", content: "go" }] });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("message_start");
    const rest = reader.read().then(
      (r) => r,
      () => ({ done: true, value: undefined }),
    );
    await p.close();
    providers.splice(0);
    const after = await rest;
    expect(after.done).toBe(true);
  });

  it("counts tokens, lists the demo model and answers 404 for the rest", async () => {
    const p = await start();
    const count = (await (
      await post(
        p.url,
        { messages: [{ role: "user", content: "x".repeat(400) }] },
        "/v1/messages/count_tokens",
      )
    ).json()) as { input_tokens: number };
    expect(count.input_tokens).toBeGreaterThan(100);
    const models = (await (await fetch(`${p.url}/v1/models`)).json()) as {
      data: Array<{ id: string; display_name: string }>;
    };
    expect(models.data[0].id).toBe("demo");
    expect(models.data[0].display_name).toContain("not a real LLM");
    expect((await fetch(`${p.url}/v2/other`)).status).toBe(404);
    expect(p.requests.map((r) => r.path)).toEqual(["/v1/messages/count_tokens", "/v1/models", "/v2/other"]);
  });

  it("applies a fault profile on an injected clock", async () => {
    let now = 1_000_000;
    const p = await start({
      now: () => now,
      faults: { preflightFailUntilMs: 10_000, rateLimitUntilMs: 3_000 },
    });
    const preflight = () => post(p.url, { messages: [{ role: "user", content: PREFLIGHT_PROMPT }] });
    const first = await preflight();
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("3");
    now += 3_000;
    expect((await preflight()).status).toBe(529);
    now += 7_000;
    expect((await preflight()).status).toBe(200);
  });

  it("breaks a preflight silently under the hang mode: no status, no byte, until the client gives up", async () => {
    let now = 0;
    const p = await start({
      now: () => now,
      faults: { preflightFailUntilMs: 10_000, preflightFailMode: "hang" },
    });
    const preflight = (signal?: AbortSignal) =>
      fetch(`${p.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ messages: [{ role: "user", content: PREFLIGHT_PROMPT }] }),
        signal,
      });
    const gaveUp = new AbortController();
    const hung = preflight(gaveUp.signal).then(
      (r) => `answered ${r.status}`,
      (e: Error) => `no answer (${e.name})`,
    );
    // The provider has the request and has said nothing; the client is the one who ends it.
    await vi.waitFor(() => expect(p.requests.at(-1)?.answer).toBe("silent"));
    gaveUp.abort();
    expect(await hung).toBe("no answer (AbortError)");
    // A task request is not a preflight: it is answered; once the break is over, so is the preflight.
    const task = await post(p.url, { messages: [{ role: "user", content: PROMPT }] });
    expect(task.status).toBe(200);
    now = 10_000;
    expect((await preflight()).status).toBe(200);
  });

  it("draws preflight failures from a seeded random source, reproducibly", () => {
    const draw = (seed: number) => {
      const clock = { now: () => 0, startedAt: 0, random: seededRandom(seed) };
      return Array.from(
        { length: 50 },
        () => decideFault({ preflightFailRate: 0.3 }, clock, { isPreflight: true, scriptTurns: 1 }).kind,
      );
    };
    expect(draw(7)).toEqual(draw(7));
    const failures = draw(7).filter((k) => k === "overloaded").length;
    expect(failures).toBeGreaterThan(5);
    expect(failures).toBeLessThan(30);
    const spread = decideFault(
      { taskDurationMs: 4_000, latencyMs: 100 },
      { now: () => 0, startedAt: 0, random: seededRandom(1) },
      { isPreflight: false, scriptTurns: 4 },
    );
    expect(spread).toEqual({ kind: "none", delayMs: 1_100 });
  });

  it("reads directives and the prompt's lists", () => {
    expect(parseDirective("a <!-- mtor-demo: rate_limit retry_after=30 --> b")).toEqual({
      name: "rate_limit",
      params: { retry_after: "30" },
    });
    expect(parseDirective("no directive")).toBeNull();
    expect(readList(PROMPT, "Targets:")).toEqual(["src/util.ts"]);
    expect(readList(PROMPT, "Tests to add:")).toEqual(["clamps below", "clamps above"]);
  });

  it("runs from its CLI entry and stops on SIGTERM", async () => {
    const tsx = join(process.cwd(), "node_modules", ".bin", "tsx");
    const main = join(process.cwd(), "executor", "src", "demo", "main.ts");
    const child = spawn(tsx, [main, "--port", "0", "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let out = "";
      const url = await new Promise<string>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) {
            clearTimeout(deadline);
            resolve(m[1]);
          }
        });
      });
      expect(out).toContain("not a real LLM");
      const res = await post(url, { messages: [{ role: "user", content: PREFLIGHT_PROMPT }] });
      expect(((await res.json()) as { content: Array<{ text: string }> }).content[0].text).toBe("ok");
    } finally {
      const exited = child.exitCode === null ? once(child, "exit") : Promise.resolve();
      child.kill("SIGTERM");
      await exited;
    }
    expect(child.exitCode === 0 || child.signalCode === "SIGTERM").toBe(true);
  });
});

describe("demo directive parameters", () => {
  it("preflight=ok passes the probe and after=N misbehaves only from turn N of the task", async () => {
    const p = await start();
    const pre = await post(p.url, {
      messages: [{ role: "user", content: buildPreflightPrompt("<!-- mtor-demo: hang preflight=ok -->") }],
    });
    expect(((await pre.json()) as { content: Array<{ text: string }> }).content[0].text).toBe("ok");
    const prompt = `${PROMPT}\n<!-- mtor-demo: error_529 after=1 -->`;
    const first = await post(p.url, { tools: TOOLS, messages: [{ role: "user", content: prompt }] });
    expect(first.status).toBe(200);
    const second = await post(p.url, {
      tools: TOOLS,
      messages: [
        { role: "user", content: prompt },
        { role: "assistant", content: [{ type: "text", text: "working" }] },
        { role: "user", content: "go on" },
      ],
    });
    expect(second.status).toBe(529);
  });
});
