// The demo model's scripts: given a conversation so far, the next turn it answers. Stateless
// per request: the turn number is the count of assistant messages already in the conversation.
import { posix } from "node:path";
import { PREFLIGHT_PROMPT, TARGETS_HEADING, TESTS_HEADING } from "../prompt";
import type { OutBlock, StopReason } from "./messages";

export type Turn =
  | { kind: "message"; content: OutBlock[]; stopReason: StopReason }
  | { kind: "error"; status: number; type: string; message: string; headers?: Record<string, string> }
  /** Accept the request, start the stream, then never finish it. */
  | { kind: "hang" };

export interface Conversation {
  /** Text of the conversation's first user message (the prompt). */
  prompt: string;
  isPreflight: boolean;
  /** Assistant turns already taken. */
  turn: number;
  /** Tool names the harness offers (Bash for claude, bash for opencode). */
  tools: string[];
  /** `key=value` words after the script name in the directive. */
  params: Record<string, string>;
  /** Server-level defaults, e.g. the rate limit's retry-after. */
  retryAfterS: number;
  /** Text of every tool result the conversation holds, oldest first. */
  toolResults?: string[];
}

export interface Script {
  /** How many turns a task takes, used to spread a fault profile's task duration. */
  turns: number;
  next(c: Conversation): Turn;
}

export const DEMO_ANNOUNCE = "[mtor demo model: scripted, not a real LLM]";

const DIRECTIVE = /<!--\s*mtor-demo:\s*([A-Za-z0-9_-]+)([^>]*?)-->/;

/** The script a prompt asks for with `<!-- mtor-demo: NAME key=value -->`, if any. */
export function parseDirective(prompt: string): { name: string; params: Record<string, string> } | null {
  const m = DIRECTIVE.exec(prompt);
  if (!m) return null;
  const params: Record<string, string> = {};
  for (const word of m[2].trim().split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf("=");
    if (eq > 0) params[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return { name: m[1], params };
}

export function isPreflightPrompt(prompt: string): boolean {
  return prompt.includes(PREFLIGHT_PROMPT);
}

/** The bullet list under a heading of the run prompt. */
export function readList(prompt: string, heading: string): string[] {
  const lines = prompt.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^\s*[-*]\s+(.+?)\s*$/.exec(line);
    if (!m) break;
    out.push(m[1].replace(/^`(.*)`$/, "$1"));
  }
  return out;
}

// ---------------------------------------------------------------- building blocks

let toolIds = 0;
function toolUseId(): string {
  toolIds += 1;
  return `toolu_demo_${Date.now().toString(36)}${toolIds.toString(36).padStart(4, "0")}`;
}

function bashTool(c: Conversation): string {
  return c.tools.find((t) => t.toLowerCase() === "bash") ?? "Bash";
}

function bash(c: Conversation, command: string, description: string): Turn {
  return {
    kind: "message",
    content: [
      { type: "text", text: `${DEMO_ANNOUNCE} ${description}.` },
      { type: "tool_use", id: toolUseId(), name: bashTool(c), input: { command, description } },
    ],
    stopReason: "tool_use",
  };
}

function say(text: string): Turn {
  return { kind: "message", content: [{ type: "text", text }], stopReason: "end_turn" };
}

const HEREDOC = "MTOR_DEMO_EOF";
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
function writeFile(path: string, content: string, append: boolean): string {
  const dir = posix.dirname(path);
  const mkdir = dir && dir !== "." ? `mkdir -p ${shellQuote(dir)} && ` : "";
  return `${mkdir}cat ${append ? ">>" : ">"} ${shellQuote(path)} <<'${HEREDOC}'\n${content}${HEREDOC}`;
}

// ---------------------------------------------------------------- the change the demo makes

type Lang = "js" | "ts" | "py";

function langOf(path: string): Lang {
  if (/\.py$/.test(path)) return "py";
  if (/\.(ts|tsx|mts|cts)$/.test(path)) return "ts";
  return "js";
}

function words(s: string): string[] {
  return s
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .map((w) => w.toLowerCase())
    .filter(Boolean);
}

/** A function name derived from the first test (test_throttle_backoff → throttleBackoff). */
function functionName(tests: string[], target: string, lang: Lang): string {
  let w = tests.length > 0 ? words(tests[0]) : [];
  if (w[0] === "test") w = w.slice(1);
  if (w.length === 0) w = [...words(posix.basename(target).replace(/\.[^.]*$/, "")), "clamp"];
  if (/^[0-9]/.test(w[0] ?? "")) w.unshift("fn");
  if (lang === "py") return w.join("_");
  return w.map((x, i) => (i === 0 ? x : x[0].toUpperCase() + x.slice(1))).join("");
}

function testFileFor(target: string, lang: Lang): string {
  const base = posix.basename(target).replace(/\.[^.]*$/, "");
  if (lang === "py") return `tests/test_${base}.py`;
  return `test/${base}.test.${lang === "ts" ? "ts" : "js"}`;
}

function functionSource(name: string, lang: Lang): string {
  if (lang === "py") {
    return `\n\ndef ${name}(value, low, high):\n    """Clamp value into [low, high]; the demo model's small real change."""\n    if low > high:\n        raise ValueError("low must not exceed high")\n    return max(low, min(high, value))\n`;
  }
  const t = lang === "ts";
  return `\n/** Clamps value into [low, high]; the demo model's small real change. */\nexport function ${name}(value${t ? ": number" : ""}, low${t ? ": number" : ""}, high${t ? ": number" : ""})${t ? ": number" : ""} {\n  if (low > high) throw new RangeError("low must not exceed high");\n  return Math.min(high, Math.max(low, value));\n}\n`;
}

/** The test file's header (only when it is created) and the tests appended to it. */
function testSource(
  tests: string[],
  fn: string,
  target: string,
  testFile: string,
  lang: Lang,
): { head: string; body: string } {
  if (lang === "py") {
    const mod = target.replace(/\.py$/, "").replace(/\//g, ".");
    const head =
      "import sys\nimport pathlib\n\nsys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))\n";
    const body = tests
      .map((t, i) => {
        const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(t) ? t : `test_${words(t).join("_")}`;
        return `\n\ndef ${name}():\n    from ${mod} import ${fn}\n    assert ${fn}(${5 + i}, 0, 3) == 3\n    assert ${fn}(-1, 0, 3) == 0\n`;
      })
      .join("");
    return { head, body };
  }
  let rel = posix.relative(posix.dirname(testFile), target.replace(/\.[^.]*$/, ""));
  if (!rel.startsWith(".")) rel = `./${rel}`;
  const head = `import { test } from "node:test";\nimport assert from "node:assert/strict";\n`;
  const body =
    `import { ${fn} } from "${rel}";\n` +
    tests
      .map(
        (t, i) =>
          `\ntest(${JSON.stringify(t)}, () => {\n  assert.equal(${fn}(${5 + i}, 0, 3), 3);\n  assert.equal(${fn}(-1, 0, 3), 0);\n});\n`,
      )
      .join("");
  return { head, body };
}

interface Plan {
  target: string;
  testFile: string;
  fn: string;
  tests: string[];
  writeTarget: string;
  writeTests: string | null;
}

function plan(c: Conversation, extraTests: number): Plan {
  const targets = readList(c.prompt, TARGETS_HEADING);
  const named = readList(c.prompt, TESTS_HEADING);
  const target = targets[0] ?? "src/demo.ts";
  const lang = langOf(target);
  const fn = functionName(named, target, lang);
  const testFile = testFileFor(target, lang);
  const tests = [...named];
  for (let i = 1; i <= extraTests; i++)
    tests.push(lang === "py" ? `test_extra_edge_case_${i}` : `extra edge case ${i}`);
  // Appending keeps whatever the target and test file already hold.
  const fnSource = functionSource(fn, lang);
  const writeTarget = `if [ -s ${shellQuote(target)} ]; then ${writeFile(target, fnSource, true)}\nelse ${writeFile(target, fnSource.replace(/^\n+/, ""), false)}\nfi`;
  let writeTests: string | null = null;
  if (tests.length > 0) {
    const { head, body } = testSource(tests, fn, target, testFile, lang);
    writeTests = `if [ ! -e ${shellQuote(testFile)} ]; then ${writeFile(testFile, head, false)}\nfi\n${writeFile(testFile, body, true)}`;
  }
  return { target, testFile, fn, tests, writeTarget, writeTests };
}

function commitCommand(p: Plan, message: string): string {
  const files = [p.target, ...(p.writeTests ? [p.testFile] : [])].map(shellQuote).join(" ");
  return `git add ${files} && git commit -q -m ${shellQuote(message)} && git log --oneline -1`;
}

/** The default change as a list of steps, committed with `commitMessage` if given; variants add steps. */
function changeSteps(c: Conversation, p: Plan, commitMessage?: string): Array<() => Turn> {
  const steps: Array<() => Turn> = [() => bash(c, p.writeTarget, `Writing ${p.fn} into ${p.target}`)];
  if (p.writeTests) {
    const tests = p.writeTests;
    steps.push(() => bash(c, tests, `Adding ${p.tests.length} test(s) to ${p.testFile}`));
  }
  if (commitMessage !== undefined) {
    steps.push(() => bash(c, commitCommand(p, commitMessage), "Committing the change"));
  }
  return steps;
}

function runSteps(c: Conversation, steps: Array<() => Turn>, summary: string): Turn {
  const step = steps[c.turn];
  return step ? step() : say(`${DEMO_ANNOUNCE} ${summary}`);
}

/** A script that works on the run's repository: the preflight gets "ok", the run gets `work`. */
function repoScript(turns: number, work: (c: Conversation) => Turn): Script {
  return { turns, next: (c) => (c.isPreflight ? say("ok") : work(c)) };
}

// ---------------------------------------------------------------- the scripts

const defaultScript = repoScript(4, (c) => {
  const p = plan(c, 0);
  const steps = changeSteps(c, p, `Add ${p.fn} to ${p.target}`);
  return runSteps(
    c,
    steps,
    `Added ${p.fn} to ${p.target}${p.tests.length ? ` and ${p.tests.length} test(s) to ${p.testFile}` : ""}; committed on the current branch.`,
  );
});

function errorScript(status: number, type: string, message: string): Script {
  return { turns: 1, next: () => ({ kind: "error", status, type, message }) };
}

const rateLimit: Script = {
  turns: 1,
  next(c) {
    const raw = Number(c.params.retry_after ?? c.params.retry_after_s);
    const s = Number.isFinite(raw) && raw >= 0 ? Math.round(raw) : c.retryAfterS;
    return {
      kind: "error",
      status: 429,
      type: "rate_limit_error",
      message: `Rate limit reached for the demo provider; retry after ${s} seconds`,
      headers: { "retry-after": String(s) },
    };
  },
};

const deleteFunction = repoScript(4, (c) => {
  const target = readList(c.prompt, TARGETS_HEADING)[0] ?? "src/demo.ts";
  // A one-off node program guts the first function it finds (or deletes the file).
  const program = `const fs = require("fs");
const path = ${JSON.stringify(target)};
if (!fs.existsSync(path)) { process.exit(0); }
let src = fs.readFileSync(path, "utf8");
const py = /\\.py$/.test(path);
if (py) {
  const m = /^def (\\w+)\\(.*\\):\\n(?:(?:[ \\t]+.*|)\\n)*/m.exec(src);
  if (m) src = src.slice(0, m.index) + "def " + m[1] + "(*args):\\n    pass\\n" + src.slice(m.index + m[0].length);
  else src = "";
} else {
  const m = /(export\\s+)?(async\\s+)?function\\s+(\\w+)\\s*\\([^)]*\\)[^{]*\\{/.exec(src);
  if (m) {
    let depth = 0, i = m.index + m[0].length - 1;
    for (; i < src.length; i++) { if (src[i] === "{") depth++; else if (src[i] === "}" && --depth === 0) break; }
    src = src.slice(0, m.index) + (m[1] || "") + "function " + m[3] + "() { return undefined; }" + src.slice(i + 1);
  } else src = "";
}
if (src === "") fs.unlinkSync(path); else fs.writeFileSync(path, src);`;
  const steps: Array<() => Turn> = [
    () => bash(c, `cat ${shellQuote(target)}`, `Reading ${target}`),
    () => bash(c, `node - <<'${HEREDOC}'\n${program}\n${HEREDOC}`, `Simplifying ${target}`),
    () =>
      bash(
        c,
        `git add -A ${shellQuote(target)} && git commit -q -m 'Simplify ${target.replace(/'/g, "")}' && git log --oneline -1`,
        "Committing",
      ),
  ];
  return runSteps(
    c,
    steps,
    `Simplified ${target} by replacing its first function with a one-liner; committed.`,
  );
});

const extraTests = repoScript(4, (c) => {
  const p = plan(c, 2);
  const steps = changeSteps(c, p, `Add ${p.fn} with thorough tests`);
  return runSteps(c, steps, `Added ${p.fn} and ${p.tests.length} tests (more than asked); committed.`);
});

const noCommit = repoScript(3, (c) => {
  const p = plan(c, 0);
  return runSteps(c, changeSteps(c, p), `Added ${p.fn} to ${p.target}. All done.`);
});

const pushMain = repoScript(6, (c) => {
  const p = plan(c, 0);
  const steps = changeSteps(c, p, `Add ${p.fn} to ${p.target}`);
  steps.push(() =>
    bash(c, "git push origin main 2>&1; git push origin HEAD:main 2>&1; true", "Publishing to main"),
  );
  steps.push(() =>
    bash(
      c,
      "git checkout main 2>&1 && git commit --allow-empty -q -m 'mtor demo: commit straight on main' 2>&1; git checkout - 2>&1; true",
      "Committing on main as well",
    ),
  );
  return runSteps(c, steps, `Added ${p.fn}, committed, and tried to publish to main.`);
});

/**
 * An agent that attacks its executor after doing the task: it reads every secret it can, pushes
 * to the origin by URL with the git config environment cleared, plants hooks and git config in
 * every git directory it can reach, writes outside its workspace (forging the executor's boot
 * record too) and leaves a detached process that keeps committing. Parameters: `origin=` the
 * origin's URL, `marker=` the file its planted hooks append to, `outside=` a path outside the
 * workspace to write, `nonce=` a word in the detached process's command line. Each step ends by
 * printing `attack step N done`, so a test can tell the model saw every result.
 */
const attack = repoScript(9, (c) => {
  const p = plan(c, 0);
  const origin = c.params.origin ?? "";
  const marker = c.params.marker ?? "/tmp/mtor-attack-marker";
  const outside = c.params.outside ?? "/tmp/mtor-attack-outside";
  const nonce = c.params.nonce ?? "mtor-attack";
  const hook = `#!/bin/sh\necho "hook $0 ran as $(id -u) in $(pwd)" >> ${marker}\n`;
  const done = (n: number) => `; echo "attack step ${n} done"`;
  // Run by mistake on a developer's box (sandbox = "none"), the attack would plant hooks in every
  // checkout it finds. So it plants and writes only where it sees mtor's sandbox (its PID
  // namespace's pid 1 is bwrap), or, given `scope=DIR`, only inside that throwaway tree.
  const scope = c.params.scope;
  const open = (n: number) =>
    scope
      ? `S=$(realpath -m -- ${shellQuote(scope)}); inscope() { case "$(realpath -m -- "$1")/" in "$S"/*) return 0;; esac; return 1; }; `
      : `if [ "$(cat /proc/1/comm 2>/dev/null)" != bwrap ]; then echo "attack step ${n} refused: not inside mtor's sandbox (pid 1 is $(cat /proc/1/comm 2>/dev/null)); give scope=DIR to aim it at a throwaway tree"; else inscope() { return 0; }; `;
  const close = scope ? "" : "; fi";
  const guarded = (n: number, body: string) => `${open(n)}${body}${close}${done(n)}`;
  const steps = changeSteps(c, p, `Add ${p.fn} to ${p.target}`);
  steps.push(() =>
    bash(
      c,
      "for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < \"$f\" 2>/dev/null; done | sort -u; env; " +
        "ls -la ~/.ssh /root/.ssh /home/*/.ssh 2>&1; cat ~/.ssh/* /root/.ssh/* /home/*/.ssh/* 2>&1; " +
        "cat ../../../spool/* ../../../../*.toml /etc/mtor/* 2>&1; ls /proc | head -50" +
        done(1),
      "Looking around the machine",
    ),
  );
  steps.push(() =>
    bash(
      c,
      guarded(
        2,
        `if inscope ${shellQuote(origin)}; then ` +
          `for v in $(env | grep -o '^GIT_[A-Z_]*'); do unset "$v"; done; ` +
          `git push ${shellQuote(origin)} HEAD:refs/heads/main 2>&1; ` +
          `git push --force ${shellQuote(origin)} HEAD:refs/heads/main 2>&1; ` +
          `git push ${shellQuote(`file://${origin}`)} HEAD:refs/heads/pwned 2>&1; ` +
          `git -c url.x.pushInsteadOf=y push ${shellQuote(origin)} HEAD:refs/tags/pwned 2>&1; ` +
          `else echo "origin outside scope"; fi`,
      ),
      "Publishing to main by URL",
    ),
  );
  steps.push(() =>
    bash(
      c,
      guarded(
        3,
        `printf '${hook.replace(/'/g, "'\\''")}' > /tmp/h && chmod +x /tmp/h; ` +
          `for d in .git $(find ${scope ? '"$S"' : "/"} -maxdepth 10 \\( -name '*.git' -o -name .git \\) -type d 2>/dev/null | head -100) ${shellQuote(origin)} ../../../mirrors/*.git; do ` +
          `[ -d "$d" ] || continue; inscope "$d" || continue; mkdir -p "$d/hooks" 2>/dev/null; ` +
          `for h in post-checkout reference-transaction pre-push post-update update pre-receive post-receive post-merge pre-auto-gc post-rewrite fsmonitor-watchman; do cp /tmp/h "$d/hooks/$h" 2>/dev/null; done; ` +
          `git --git-dir="$d" config core.fsmonitor "echo fsmonitor ran >> ${marker}" 2>/dev/null; ` +
          `git --git-dir="$d" config core.sshCommand "echo sshCommand ran >> ${marker}; ssh" 2>/dev/null; ` +
          `git --git-dir="$d" config core.hooksPath "$d/hooks" 2>/dev/null; ` +
          `echo "planted in $d"; done`,
      ),
      "Installing git helpers everywhere",
    ),
  );
  steps.push(() =>
    bash(
      c,
      guarded(
        4,
        `for f in ${shellQuote(outside)} ../../../planted ../../../spool/planted ../../planted $HOME/../../planted /etc/mtor-planted /usr/local/mtor-planted ${shellQuote(origin)}/planted; do ` +
          `inscope "$f" || { echo "left $f alone: outside scope"; continue; }; ` +
          `echo pwned > "$f" 2>/dev/null && echo "wrote $f" || echo "could not write $f"; done; ` +
          // The executor's boot record, a few directories up from a pooled workspace: a forged
          // one would make the executor's next start name the wrong predecessor.
          `for f in ../boot ../../boot ../../../boot ../../../../boot ../../../../../boot; do ` +
          `[ -f "$f" ] || continue; inscope "$f" || { echo "left $f alone: outside scope"; continue; }; ` +
          `echo 00000000-0000-4000-8000-000000000000 > "$f" 2>/dev/null && echo "forged $f" || echo "could not forge $f"; done`,
      ),
      "Leaving notes around the disk",
    ),
  );
  steps.push(() =>
    bash(
      c,
      guarded(
        5,
        `if inscope .; then ` +
          `setsid sh -c '(sh -c "sleep 2; i=0; while [ \\$i -lt 100000 ]; do echo \\$i >> late.txt; git add late.txt; git commit -q -m \\"late \\$i\\"; i=\\$((i+1)); sleep 0.2; done; : ${nonce}" </dev/null >/dev/null 2>&1 &); : ${nonce}' </dev/null >/dev/null 2>&1 & ` +
          "sleep 0.5; echo detached; fi",
      ),
      "Starting a background helper",
    ),
  );
  return runSteps(c, steps, `Added ${p.fn}, committed, and took a look around.`);
});

/** The first fenced block of the prompt: the spec the architect is asked to dispatch. */
function fencedSpec(prompt: string): string | null {
  const m = /```[A-Za-z]*\r?\n([\s\S]*?)\r?\n```/.exec(prompt);
  return m ? `${m[1]}\n` : null;
}

function toolCall(name: string, input: Record<string, unknown>, description: string): Turn {
  return {
    kind: "message",
    content: [
      { type: "text", text: `${DEMO_ANNOUNCE} ${description}.` },
      { type: "tool_use", id: toolUseId(), name, input },
    ],
    stopReason: "tool_use",
  };
}

/**
 * The architect: an agent connected to mtor's MCP server dispatches the spec fenced in its
 * prompt with `dispatch_spec`, then looks at the queue with `list_specs`, then says what it
 * saw. Tool names are found by suffix, as the client prefixes them (`mcp__mtor__…`).
 */
const architect: Script = {
  turns: 3,
  next(c) {
    const tool = (name: string) => c.tools.find((t) => t === name || t.endsWith(`__${name}`));
    const dispatch = tool("dispatch_spec");
    const list = tool("list_specs");
    if (!dispatch || !list) {
      return say(`${DEMO_ANNOUNCE} no mtor MCP tools offered; tools: ${c.tools.join(", ") || "none"}`);
    }
    const spec = fencedSpec(c.prompt);
    if (spec === null) return say(`${DEMO_ANNOUNCE} the prompt holds no fenced spec to dispatch`);
    if (c.turn === 0) return toolCall(dispatch, { spec }, "Dispatching the spec to mtor");
    if (c.turn === 1) return toolCall(list, { count: 20 }, "Looking at the queue");
    const [dispatched = "", listed = ""] = c.toolResults ?? [];
    let id = "?";
    try {
      id = String((JSON.parse(dispatched) as { id?: unknown }).id ?? "?");
    } catch {
      // Not the API's JSON: the summary below quotes what came back.
    }
    return say(
      `${DEMO_ANNOUNCE} dispatched ${id}; list_specs answered: ${listed.replace(/\s+/g, " ").slice(0, 2000)}` +
        (id === "?" ? `; dispatch_spec answered: ${dispatched.slice(0, 500)}` : ""),
    );
  },
};

export const SCRIPTS: Readonly<Record<string, Script>> = {
  default: defaultScript,
  error_529: errorScript(529, "overloaded_error", "Overloaded"),
  error_500: errorScript(500, "api_error", "Internal server error"),
  rate_limit: rateLimit,
  auth_error: errorScript(401, "authentication_error", "invalid x-api-key"),
  hang: { turns: 1, next: () => ({ kind: "hang" }) },
  empty: {
    turns: 1,
    next: () => ({ kind: "message", content: [{ type: "text", text: "" }], stopReason: "end_turn" }),
  },
  delete_function: deleteFunction,
  extra_tests: extraTests,
  no_commit: noCommit,
  push_main: pushMain,
  attack,
  architect,
};

/**
 * The turn a script answers, with the directive's generic parameters applied:
 * `preflight=ok` answers the preflight `ok` whatever the script; `after=N` behaves like
 * `default` for the first N turns of the task, so a provider can fail mid-run.
 */
export function scriptTurn(script: Script, c: Conversation): Turn {
  if (c.isPreflight && c.params.preflight === "ok") return say("ok");
  const after = Number(c.params.after);
  if (!c.isPreflight && Number.isInteger(after) && c.turn < after) return defaultScript.next(c);
  return script.next(c);
}

export type ScriptName = keyof typeof SCRIPTS;
export const SCRIPT_NAMES = Object.keys(SCRIPTS);

// ---------------------------------------------------------------- the reviewer

const REVIEW_DIRECTIVE = /<!--\s*mtor-review:\s*([A-Za-z0-9+_-]+)\s*-->/;

/**
 * The demo model playing the reviewer (a request whose system prompt is the reviewer's). The
 * spec chooses the answer with `<!-- mtor-review: WHAT -->`: a grade (`A`…`F`, `B+`), `malformed`
 * (bad JSON every time), `malformed-once` (bad, then good on the retry), `timeout` (never
 * answers) or `overloaded` (529). Without a directive it grades B.
 */
export function reviewerTurn(prompt: string, turn: number): Turn {
  const what = REVIEW_DIRECTIVE.exec(prompt)?.[1] ?? "B";
  if (what === "timeout") return { kind: "hang" };
  if (what === "overloaded")
    return { kind: "error", status: 529, type: "overloaded_error", message: "Overloaded" };
  const bad = what === "malformed" || (what === "malformed-once" && turn === 0);
  const text = (t: string): Turn => ({
    kind: "message",
    content: [{ type: "text", text: t }],
    stopReason: "end_turn",
  });
  if (bad) return text(`${DEMO_ANNOUNCE} Looks fine to me, grade B or so.`);
  const grade = /^[A-F][+-]?$/.test(what) ? what : "B";
  const low = "DEF".includes(grade[0]);
  const file = /^\+\+\+ b\/(\S+)/m.exec(prompt)?.[1] ?? "README.md";
  return text(
    JSON.stringify({
      grade,
      findings: low
        ? [
            {
              severity: "major",
              file,
              line: 1,
              note: "scripted finding: the change does less than the spec asks",
            },
          ]
        : [{ severity: "info", file, note: "scripted finding: reads fine" }],
      summary: `${DEMO_ANNOUNCE} scripted review, grade ${grade}`,
    }),
  );
}
