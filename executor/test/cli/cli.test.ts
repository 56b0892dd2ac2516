// The mtor CLI against a real local control plane: every operator command, its --json shape,
// and its error paths (bad token, wrong role, unknown id, invalid spec, unreachable URL).
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { ExecutorClient, type VerdictRequest } from "@mtor/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type LocalControlPlane, REPO_ROOT } from "../../src/local/control-plane";
import { EXECUTOR_KEY, mtor, startTestControlPlane, TOKENS } from "./harness";

let cp: LocalControlPlane;
let home: string;
let dir: string;
let env: Record<string, string>;

const SPEC = (title: string, extra = "") => `---
title: ${title}
repo: sandbox
targets: [src/dispatch.js]
tests: [test_${title.toLowerCase().replace(/\W+/g, "_")}]
stop: Stop after this one test.
${extra}---
Make ${title} happen.
`;

async function dispatch(title: string): Promise<string> {
  const r = await mtor(["dispatch", "-", "--json"], { env, stdin: SPEC(title) });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

/** Claims the next run as an executor and reports a verdict, so a spec reaches review. */
async function runToVerdict(
  outcome: "passed" | "rejected",
  logTail = "added the function\ncommitted",
  provider = "demo",
  extra: Pick<VerdictRequest, "review" | "usage" | "patch"> = {},
) {
  const client = new ExecutorClient({ url: cp.url, keyId: EXECUTOR_KEY.id, secret: EXECUTOR_KEY.secret });
  const claim = await client.claim({
    executor: {
      id: "cli-box",
      host: "test",
      version: "0.1.0",
      arch: "linux-x64",
      capacity: 1,
      providers: [provider],
      repos: ["sandbox"],
      load: { cpu: 0, mem_free: 0.9 },
    },
    free: 1,
    wait_s: 0,
  });
  if (!claim.ok || claim.data.runs.length === 0) throw new Error(`no run claimed: ${JSON.stringify(claim)}`);
  const run = claim.data.runs[0];
  const verdict = await client.verdict(run.run_id, {
    token: run.lease.token,
    outcome,
    flags:
      outcome === "rejected"
        ? [{ gate: "tests_extra", action: "reject", detail: "3 tests added beyond the 1 named" }]
        : [],
    branch: `mtor/${run.spec_id}-${run.attempt}`,
    head_sha: "0123456789abcdef0123456789abcdef01234567",
    commits: 1,
    diffstat: { files: 2, insertions: 14, deletions: 1 },
    duration_ms: 1200,
    log_tail: logTail,
    ...extra,
  });
  if (!verdict.ok) throw new Error(`verdict refused: ${JSON.stringify(verdict)}`);
  return run.spec_id;
}

beforeAll(async () => {
  ({ cp, home, dir } = await startTestControlPlane());
  env = { HOME: home, MTOR_URL: cp.url, MTOR_TOKEN: TOKENS.admin };
});

afterAll(async () => {
  await cp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("dispatch", () => {
  it("prints the id, status and position; --json has the API's shape", async () => {
    const file = join(home, "spec.md");
    mkdirSync(home, { recursive: true });
    writeFileSync(file, SPEC("Throttle"));
    const table = await mtor(["dispatch", file], { env });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^[a-z0-9]+ {2}queued {2}position \d+ {2}any {2}Throttle$/m);

    const json = await mtor(["dispatch", "-", "--json"], { env, stdin: SPEC("Load sensing") });
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(Object.keys(body).sort()).toEqual([
      "id",
      "lint",
      "position",
      "provider",
      "status",
      "title",
      "warnings",
    ]);
    // No executor has checked in yet: the answer warns the spec will wait for one serving `sandbox`.
    expect(body).toMatchObject({
      status: "queued",
      title: "Load sensing",
      provider: "any",
      lint: [],
      warnings: [expect.stringMatching(/^not_served: no executor has advertised repo `sandbox` yet/)],
    });
    expect(json.stderr).toBe("");
    const shown = await mtor(["show", body.id], { env });
    expect(shown.stdout).toMatch(/^warning {3}not_served: no executor has advertised repo `sandbox` yet/m);
  });

  it("takes front-matter fields from --param and prints warnings", async () => {
    const r = await mtor(["dispatch", "-", "--param", "repo=sandbox", "-p", "priority=3"], {
      env,
      stdin: "Toggle commands for the console\n\nAdd `freeze on|off`.\n",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Toggle commands for the console");
    expect(r.stderr).toMatch(/warning: spec_lint: no `tests`/);
    expect(r.stderr).toMatch(/warning: spec_lint: no `stop`/);
  });

  it("exits 1 naming each invalid field, and 2 on a usage error", async () => {
    const bad = await mtor(["dispatch", "-"], {
      env,
      stdin: "---\ntitle: Broken\nbogus: 1\ntimeout: forever\n---\nbody\n",
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("invalid_spec");
    expect(bad.stderr).toMatch(/^ {2}bogus: unknown field/m);
    expect(bad.stderr).toMatch(/^ {2}timeout: bad duration/m);
    expect(bad.stderr).toMatch(/^ {2}repo: is required/m);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const json = await mtor(["dispatch", "-", "--json"], { env, stdin: "---\nbogus: 1\n---\nx\n" });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr).error.code).toBe("invalid_spec");

    expect((await mtor(["dispatch", "-", "--param", "colour=red"], { env, stdin: SPEC("x") })).code).toBe(2);
    expect((await mtor(["dispatch", join(home, "missing.md")], { env })).code).toBe(2);
    expect((await mtor(["dispatch"], { env })).code).toBe(2);
  });

  it("refuses a duplicate of an active spec with the server's message", async () => {
    await dispatch("Deduplication");
    const again = await mtor(["dispatch", "-"], { env, stdin: SPEC("Deduplication") });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("409 duplicate");
  });
});

describe("list and show", () => {
  it("lists newest first as a table and as JSON, filtered by status", async () => {
    const id = await dispatch("Freeze switch");
    const table = await mtor(["list", "--count", "5"], { env });
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+STATUS\s+TRY\s+PROVIDER\s+UPDATED\s+FLAGS\s+TITLE$/);
    expect(table.stdout.split("\n")[1]).toContain(id);

    const json = JSON.parse((await mtor(["list", "--json", "--status", "queued"], { env })).stdout);
    expect(Object.keys(json).sort()).toEqual(["next_cursor", "specs"]);
    expect(json.specs[0]).toMatchObject({ id, status: "queued", title: "Freeze switch" });
    expect(json.specs.every((s: { status: string }) => s.status === "queued")).toBe(true);

    const none = await mtor(["list", "--status", "approved"], { env });
    expect(none.stdout.trim()).toBe("no specs");
    expect((await mtor(["list", "--status", "nonsense"], { env })).code).toBe(2);
    expect((await mtor(["list", "--count", "zero"], { env })).code).toBe(2);
  });

  it("--watch redraws with a progress line until stopped", async () => {
    const controller = new AbortController();
    let frames = 0;
    const r = await mtor(["list", "--watch", "--interval", "1"], {
      env,
      signal: controller.signal,
      onOut: (t) => {
        if (/ — every 1s, Ctrl-C to stop/.test(t) && ++frames === 2) controller.abort();
      },
    });
    expect(r.code).toBe(0);
    expect(frames).toBe(2);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d {2}\d+ queued.* — every 1s, Ctrl-C to stop$/m);
  });

  it("shows a spec with its runs, flags and diffstat; unknown ids exit 1", async () => {
    const shown = await mtor(
      ["show", (await mtor(["list", "--json", "-n", "1"], { env })).stdout.match(/"id": "(\w+)"/)?.[1] ?? ""],
      {
        env,
      },
    );
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^status {4}queued/m);

    const missing = await mtor(["show", "nosuchspec"], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no spec "nosuchspec" \(404 not_found\)/);
    const missingJson = await mtor(["show", "nosuchspec", "--json"], { env });
    expect(JSON.parse(missingJson.stderr)).toMatchObject({ error: { code: "not_found" } });
  });
});

describe("show --diff", () => {
  it("prints the latest patch, coloured only on a terminal, with the model's escapes removed", async () => {
    for (const s of JSON.parse((await mtor(["list", "--json", "-s", "queued"], { env })).stdout).specs) {
      expect((await mtor(["kill", s.id], { env })).code).toBe(0);
    }
    const id = await dispatch("Patch to read");
    // A model wrote the change: it tries to retitle the window, clear the screen and hide a line.
    const text = [
      "diff --git a/src/a.js b/src/a.js",
      "--- a/src/a.js",
      "+++ b/src/a.js",
      "@@ -1 +1 @@",
      "-old();",
      "+\x1b]0;owned\x07new();\x1b[2J \x1b[8mhidden\x1b[0m",
      "",
    ].join("\n");
    await runToVerdict("passed", "done", "demo", { patch: { text, truncated: true, bytes: 999_999 } });

    const plain = await mtor(["show", id, "--diff"], { env });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe(
      "diff --git a/src/a.js b/src/a.js\n--- a/src/a.js\n+++ b/src/a.js\n@@ -1 +1 @@\n-old();\n+new(); hidden\n",
    );
    expect(plain.stderr).toMatch(
      /attempt 1 {2}cut at \d+ B of 976\.6 KiB: the branch mtor\/\w+-1 has the rest/,
    );

    const tty = await mtor(["show", id, "--diff"], { env, tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toContain("\x1b[36m@@ -1 +1 @@\x1b[0m");
    expect(tty.stdout).toContain("\x1b[31m-old();\x1b[0m");
    expect(tty.stdout).toContain("\x1b[32m+new(); hidden\x1b[0m");
    expect(tty.stdout).not.toContain("owned");
    expect(tty.stdout).not.toContain("\x1b[2J");
    expect(tty.stdout).not.toContain("\x1b[8m");

    const shown = await mtor(["show", id], { env });
    expect(shown.stdout).toMatch(/^ {2}patch {4}976\.6 KiB \(cut for the verdict\): mtor show --diff$/m);
    const json = JSON.parse((await mtor(["show", id, "--diff", "--json"], { env })).stdout);
    expect(json).toMatchObject({ attempt: 1, truncated: true, bytes: 999_999, text });

    // A spec whose runs carried no patch says so and exits 1.
    const none = await dispatch("No patch");
    await runToVerdict("passed");
    const missing = await mtor(["show", none, "--diff"], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${none} has no run whose verdict carried a patch`);
  });
});

describe("review and spec actions", () => {
  it("approve with a grade, decline with --retry, kill and retry", async () => {
    // Clear the queue so the executor below claims exactly our spec.
    for (const s of JSON.parse((await mtor(["list", "--json", "-s", "queued"], { env })).stdout).specs) {
      expect((await mtor(["kill", s.id], { env })).code).toBe(0);
    }
    const good = await dispatch("Feedback throttle");
    expect(await runToVerdict("passed")).toBe(good);

    const shown = await mtor(["show", good], { env });
    expect(shown.stdout).toMatch(/^status {4}awaiting_review/m);
    expect(shown.stdout).toMatch(/diff {5}2 files \+14 -1/);
    expect(shown.stdout).toContain("branch   mtor/");
    const detail = JSON.parse((await mtor(["show", good, "--json"], { env })).stdout);
    expect(detail).toMatchObject({
      id: good,
      status: "awaiting_review",
      runs: [{ outcome: "passed", diffstat: { files: 2 } }],
    });

    expect((await mtor(["approve", good, "--grade", "Z"], { env })).code).toBe(2);
    const approved = await mtor(["approve", good, "--grade", "A", "--note", "clean"], { env });
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`${good}  approved`);
    const again = await mtor(["approve", good], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/409/);

    const bad = await dispatch("Dedup by body");
    expect(await runToVerdict("rejected")).toBe(bad);
    const flagged = await mtor(["list", "--json", "-s", "rejected"], { env });
    expect(JSON.parse(flagged.stdout).specs[0]).toMatchObject({ id: bad, flags: [{ gate: "tests_extra" }] });
    const table = await mtor(["list", "-s", "rejected"], { env });
    expect(table.stdout).toMatch(new RegExp(`${bad}\\s+rejected.*tests_extra`));

    const retried = await mtor(["retry", bad, "--json"], { env });
    expect(retried.code, retried.stderr).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ id: bad, status: "queued" });
    const killed = await mtor(["kill", bad], { env });
    expect(killed.stdout).toContain(`${bad}  killed, now canceled`);

    const declineQueued = await dispatch("Decline me");
    const refused = await mtor(["decline", declineQueued, "--note", "nope"], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("409");
    await runToVerdict("passed");
    const declined = await mtor(["decline", declineQueued, "--note", "use the helper", "--retry"], { env });
    expect(declined.code, declined.stderr).toBe(0);
    expect((await mtor(["show", declineQueued, "--json"], { env })).stdout).toMatch(/"status": "queued"/);

    const report = await mtor(["report"], { env });
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(new RegExp(`${good}\\s+approved\\s+A\\b`));
    expect(report.stdout).toMatch(new RegExp(`${bad}.*tests_extra`));
    const reportJson = JSON.parse((await mtor(["report", "--json", "--since", "2h"], { env })).stdout);
    expect(reportJson).toHaveProperty("specs");
    expect((await mtor(["report", "--since", "yesterday-ish"], { env })).code).toBe(2);
  });
});

describe("actions on several specs", () => {
  it("kill, retry, approve and decline take several ids; a refused one is reported and the rest still go; list --ids feeds them", async () => {
    // Approve and decline several at once, each with the same grade or note.
    for (const s of JSON.parse((await mtor(["list", "--json", "-s", "queued"], { env })).stdout).specs) {
      expect((await mtor(["kill", s.id], { env })).code).toBe(0);
    }
    const reviewed: string[] = [];
    for (const title of ["Review one", "Review two", "Review three", "Review four"]) {
      await dispatch(title);
      reviewed.push(await runToVerdict("passed"));
    }
    const approved = await mtor(["approve", reviewed[0] as string, reviewed[1] as string, "--grade", "B+"], {
      env,
    });
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout.trim().split("\n")).toEqual(reviewed.slice(0, 2).map((id) => `${id}  approved`));
    const declined = await mtor(
      ["decline", reviewed[2] as string, reviewed[3] as string, "--note", "not this way"],
      {
        env,
      },
    );
    expect(declined.code, declined.stderr).toBe(0);
    expect(declined.stdout.trim().split("\n")).toEqual(reviewed.slice(2).map((id) => `${id}  declined`));
    for (const [i, id] of reviewed.entries()) {
      const d = JSON.parse((await mtor(["show", id, "--json"], { env })).stdout);
      expect(d.status).toBe(i < 2 ? "approved" : "declined");
      expect(d.review).toMatchObject(i < 2 ? { grade: "B+" } : { note: "not this way" });
    }

    const ids = [
      await dispatch("Several one"),
      await dispatch("Several two"),
      await dispatch("Several three"),
    ];

    const killed = await mtor(["kill", ...ids], { env });
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.stdout.trim().split("\n")).toEqual(ids.map((id) => `${id}  killed, now canceled`));

    // list --ids: ids only, newest first, --count of them, and where to go on.
    const listed = await mtor(["list", "-s", "canceled", "--ids"], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.trim().split("\n").slice(0, 3)).toEqual([...ids].reverse());
    const two = await mtor(["list", "-s", "canceled", "--ids", "-n", "2"], { env });
    expect(two.stdout.trim().split("\n")).toEqual([ids[2], ids[1]]);
    expect(two.stderr).toMatch(/^more: mtor list --ids --cursor \S+/);
    const next = await mtor(
      [
        "list",
        "-s",
        "canceled",
        "--ids",
        "-n",
        "1",
        "--cursor",
        two.stderr.trim().split(" ").at(-1) as string,
      ],
      { env },
    );
    expect(next.stdout.trim()).toBe(ids[0]);
    expect((await mtor(["list", "--ids", "--json"], { env })).code).toBe(2);

    // An unknown id and one whose status refuses the action are reported; the others go.
    const retried = await mtor(["retry", ids[0] as string, "nosuchid", ids[1] as string], { env });
    expect(retried.code).toBe(1);
    expect(retried.stdout.trim().split("\n")).toEqual([
      `${ids[0]}  queued for another attempt, now queued`,
      `${ids[1]}  queued for another attempt, now queued`,
    ]);
    expect(retried.stderr).toContain("nosuchid");
    expect(retried.stderr).toContain("404");
    const again = await mtor(["retry", ids[0] as string, ids[2] as string, "--json"], { env });
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toEqual([expect.objectContaining({ id: ids[2], status: "queued" })]);
    expect(JSON.parse(again.stderr.trim())).toMatchObject({ error: { code: "invalid_transition" } });
    // One id alone answers as before: one object, not a list.
    const one = await mtor(["kill", ids[0] as string, "--json"], { env });
    expect(JSON.parse(one.stdout)).toMatchObject({ id: ids[0], status: "canceled" });

    // An unreachable control plane stops the whole command at the first id.
    const port = await freePort();
    const down = await mtor(
      ["kill", ids[1] as string, ids[2] as string, "--url", `http://127.0.0.1:${port}`],
      { env },
    );
    expect(down.code).toBe(3);
    expect(down.stderr.match(/cannot reach/g)).toHaveLength(1);
    // So does a token that may not act: one refusal, not one per id.
    const reader = await mtor(["kill", ids[1] as string, ids[2] as string, "--token", TOKENS.read], { env });
    expect(reader.code).toBe(1);
    expect(reader.stderr.match(/403/g)).toHaveLength(1);
    expect((await mtor(["kill", ids[1] as string, ids[2] as string], { env })).code).toBe(0);
    const left = JSON.parse((await mtor(["list", "--json", "-s", "queued"], { env })).stdout).specs;
    expect(left.map((s: { id: string }) => s.id)).not.toContain(ids[1]);
  });
});

describe("the first hour", () => {
  it("dispatch takes several files and reports each; a refused one does not stop the rest", async () => {
    const files = ["a", "b", "c"].map((n) => join(home, `multi-${n}.md`));
    mkdirSync(home, { recursive: true });
    writeFileSync(files[0], SPEC("Multi one"));
    writeFileSync(files[1], "---\ntitle: Broken\nbogus: 1\n---\nbody\n");
    writeFileSync(files[2], SPEC("Multi three"));
    const r = await mtor(["dispatch", ...files], { env });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^[a-z0-9]+ {2}queued .*Multi one {2}\\(${files[0]}\\)$`));
    expect(lines[1]).toMatch(new RegExp(`Multi three {2}\\(${files[2]}\\)$`));
    expect(r.stderr).toContain(`${files[1]}:`);
    expect(r.stderr).toMatch(/^ {2}bogus: unknown field/m);
    expect(r.stderr).toContain("2 of 3 dispatched");

    const json = await mtor(["dispatch", "--json", files[1], join(home, "missing.md")], { env });
    expect(JSON.parse(json.stdout).map((x: { file: string }) => x.file)).toEqual([
      files[1],
      join(home, "missing.md"),
    ]);
    expect(json.code).toBe(2);
    expect((await mtor(["dispatch", files[0], "-"], { env })).code).toBe(2);
  });

  it("show prints the harness's answer as lines, --log N of them; a retry renews attempts honestly; list names the provider that ran it", async () => {
    for (const s of JSON.parse((await mtor(["list", "--json", "-s", "queued"], { env })).stdout).specs) {
      expect((await mtor(["kill", s.id], { env })).code).toBe(0);
    }
    const id = await mtor(["dispatch", "-", "--json"], {
      env,
      stdin: SPEC("Once only", "attempts: 1\n"),
    }).then((r) => JSON.parse(r.stdout).id as string);
    const answer = "I added throttleBackoff.\nBoth tests pass.\nCommitted as abc123.";
    const claudeJson = JSON.stringify({
      type: "result",
      subtype: "success",
      is_error: false,
      num_turns: 4,
      result: answer,
    });
    // Its own provider, so these rejections do not halve demo's slots for the tests after it.
    expect(
      await runToVerdict("rejected", `git: preparing\nclaude: started\n${claudeJson}`, "first-hour"),
    ).toBe(id);

    const shown = await mtor(["show", id, "--log", "2"], { env });
    expect(shown.stdout).not.toContain('{"type":"result"');
    expect(shown.stdout).toMatch(/ {4}Both tests pass\.\n {4}Committed as abc123\./);
    expect(shown.stdout).not.toContain("I added throttleBackoff");
    const longer = await mtor(["show", id, "--log", "20"], { env });
    expect(longer.stdout).toContain("    harness result (success, 4 turns):");
    expect(longer.stdout).toContain("    claude: started");
    expect(shown.stdout).toMatch(/attempt 1 of 1$/m);

    const table = await mtor(["list", "-n", "1"], { env });
    expect(table.stdout.split("\n")[1]).toMatch(new RegExp(`^${id}\\s+rejected\\s+1\\s+first-hour\\s`));
    expect(JSON.parse((await mtor(["list", "--json", "-n", "1"], { env })).stdout).specs[0]).toMatchObject({
      provider: "any",
      run_provider: "first-hour",
    });

    expect((await mtor(["retry", id], { env })).code).toBe(0);
    expect(await runToVerdict("rejected", "again", "first-hour")).toBe(id);
    const after = await mtor(["show", id], { env });
    expect(after.stdout).not.toContain("attempt 2 of 1");
    expect(after.stdout).toMatch(/attempt 2 of 2 \(attempts: 1, renewed by a retry\)$/m);
  });
});

describe("webhooks", () => {
  it("mtor webhooks test delivers a sample in the endpoint's format to a real receiver, and says what failed when it cannot", async () => {
    const got: { url: string; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        got.push({ url: req.url ?? "", body });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const create = async (url: string, format: string) => {
        const r = await fetch(`${cp.url}/v1/webhooks`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKENS.admin}`, "content-type": "application/json" },
          body: JSON.stringify({ url, format, events: ["spec.verdict"] }),
        });
        expect(r.status).toBe(201);
        return ((await r.json()) as { id: string }).id;
      };
      const ok = await create(`http://127.0.0.1:${port}/topic-cli?auth=s3cret`, "ntfy");
      const r = await mtor(["webhooks", "test", ok], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${ok}: test notification delivered \\(200\\)`));
      expect(got).toHaveLength(1);
      expect(got[0].url).toBe("/?auth=s3cret");
      expect(JSON.parse(got[0].body)).toMatchObject({ topic: "topic-cli" });

      const list = await mtor(["webhooks"], { env });
      expect(list.stdout).toContain(ok);
      expect(list.stdout).not.toContain("s3cret");

      const closed = await freePort();
      const bad = await create(`http://127.0.0.1:${closed}/hook`, "standard");
      const failed = await mtor(["webhooks", "test", bad], { env });
      expect(failed.code).toBe(1);
      expect(failed.stdout).toMatch(new RegExp(`not delivered: connect: .*127\\.0\\.0\\.1:${closed}`));
      expect((await mtor(["webhooks", "test", "wh_nosuch"], { env })).code).toBe(1);
    } finally {
      server.close();
    }
  });
});

describe("fleet controls", () => {
  it("freeze and thaw the fleet and one provider", async () => {
    expect((await mtor(["freeze"], { env })).stdout).toContain("fleet frozen");
    const status = await mtor(["status"], { env });
    expect(status.stdout).toMatch(/^fleet FROZEN/);
    expect(JSON.parse((await mtor(["status", "--json"], { env })).stdout)).toMatchObject({ frozen: true });
    expect((await mtor(["thaw"], { env })).stdout).toContain("fleet thawed");

    const frozen = JSON.parse((await mtor(["freeze", "demo", "--json"], { env })).stdout);
    expect(frozen).toMatchObject({ name: "demo", frozen: true });
    const thawed = await mtor(["thaw", "demo"], { env });
    expect(thawed.stdout).toContain("provider demo thawed");
  });

  it("providers: list and set slots", async () => {
    const set = await mtor(["providers", "set", "demo", "--slots", "4"], { env });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^demo\s+\d\/4/m);
    const list = JSON.parse((await mtor(["providers", "--json"], { env })).stdout);
    const demo = (Array.isArray(list) ? list : list.providers).find(
      (p: { name: string }) => p.name === "demo",
    );
    expect(demo).toMatchObject({ slots: 4, breaker: { state: "closed" } });
    expect((await mtor(["providers"], { env })).stdout.split("\n")[0]).toMatch(
      /^PROVIDER\s+SLOTS\s+QUEUED\s+BREAKER/,
    );
    expect((await mtor(["providers", "set", "demo"], { env })).code).toBe(2);
    expect((await mtor(["providers", "set", "demo", "--slots", "-1"], { env })).code).toBe(2);
  });

  it("gates: list and set action and retry", async () => {
    const list = await mtor(["gates"], { env });
    expect(list.stdout).toMatch(/^destruction\s+reject\s+yes$/m);
    const set = await mtor(["gates", "tests_extra", "review", "--retry"], { env });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe("gate tests_extra: review, retry on\n");
    const json = JSON.parse((await mtor(["gates", "--json"], { env })).stdout);
    expect(JSON.stringify(json)).toMatch(/"tests_extra"/);
    expect((await mtor(["gates"], { env })).stdout).toMatch(/^tests_extra\s+review\s+yes$/m);
    expect((await mtor(["gates", "tests_extra", "reject", "--no-retry"], { env })).stdout).toContain(
      "retry off",
    );
    expect((await mtor(["gates", "no_such_gate", "off"], { env })).code).toBe(2);
    expect((await mtor(["gates", "destruction", "maybe"], { env })).code).toBe(2);
  });

  it("executors: list, drain and undrain", async () => {
    const list = await mtor(["executors"], { env });
    expect(list.stdout).toMatch(/^cli-box\s+test linux-x64/m);
    const drained = await mtor(["executors", "drain", "cli-box"], { env });
    expect(drained.code, drained.stderr).toBe(0);
    expect((await mtor(["executors"], { env })).stdout).toMatch(/^cli-box.*draining/m);
    expect((await mtor(["executors", "undrain", "cli-box"], { env })).code).toBe(0);
    const json = JSON.parse((await mtor(["executors", "--json"], { env })).stdout);
    const box = (Array.isArray(json) ? json : json.executors).find((e: { id: string }) => e.id === "cli-box");
    expect(box).toMatchObject({ id: "cli-box", draining: false, capacity: 1 });
    expect((await mtor(["executors", "drain", "no-such-box"], { env })).code).toBe(1);
  });
});

describe("settings and failures", () => {
  it("settings and providers set the spend budget and prices; status shows spend against it", async () => {
    const set = await mtor(["settings", "--budget", "12.5", "--fallback-price", "0.8"], { env });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/budget fleet \$\d+\.\d\d of \$12\.50 tonight/);
    expect(set.stdout).toContain("fallback price $0.80 a run");
    const negative = await mtor(["settings", "--budget", "-1"], { env });
    expect(negative.code).toBe(1);
    expect(negative.stderr).toContain("budget_usd: must not be negative");
    const words = await mtor(["settings", "--budget", "lots"], { env });
    expect(words.code).toBe(2);
    expect(words.stderr).toContain("--budget must be a number of US dollars");
    const provider = await mtor(["providers", "set", "p-cli-budget", "--budget", "3", "--price", "0.6/2.2"], {
      env,
    });
    expect(provider.code, provider.stderr).toBe(0);
    expect(provider.stdout).toContain("$3.00/night $0.6/$2.2 per Mtok");
    const badPrice = await mtor(["providers", "set", "p-cli-budget", "--price", "cheap"], { env });
    expect(badPrice.code).toBe(2);
    expect(badPrice.stderr).toContain("--price must be INPUT/OUTPUT");
    const status = await mtor(["status"], { env });
    expect(status.stdout).toMatch(/budget fleet \$\d+\.\d\d of \$12\.50 tonight/);
    expect(status.stdout).toMatch(/budget provider p-cli-budget \$0\.00 of \$3\.00 tonight/);
    expect((await mtor(["settings", "--budget", "none", "--fallback-price", "1"], { env })).code).toBe(0);
    expect((await mtor(["settings", "--budget", "none", "--provider", "p-cli-budget"], { env })).code).toBe(
      0,
    );
  });

  it("providers set and list a provider's run window; the settings still show it", async () => {
    const set = await mtor(
      ["providers", "set", "p-cli-window", "--window", "22:00-06:00", "--zone", "Europe/Berlin", "--fit"],
      { env },
    );
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/22:00-06:00 Europe\/Berlin fit (open|closed)/);
    const list = await mtor(["providers"], { env });
    expect(list.stdout).toMatch(/p-cli-window .*22:00-06:00 Europe\/Berlin fit (open|closed)/);
    const settings = await mtor(["settings"], { env });
    expect(settings.stdout).toContain(
      "provider p-cli-window window 22:00-06:00 Europe/Berlin (runs must fit)",
    );
    const bad = await mtor(["providers", "set", "p-cli-window", "--window", "25:00-06:00"], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('window: must be "HH:MM-HH:MM"');
    const off = await mtor(["providers", "set", "p-cli-window", "--window", "none"], { env });
    expect(off.code, off.stderr).toBe(0);
    expect((await mtor(["providers"], { env })).stdout).toMatch(/p-cli-window(?!.*22:00-06:00)/);
  });

  it("a bad token exits 1 with the server's message; a read token may not act", async () => {
    const bad = await mtor(["list"], { env: { ...env, MTOR_TOKEN: "wrong" } });
    expect(bad).toMatchObject({ code: 1, stdout: "" });
    expect(bad.stderr).toMatch(/^mtor: .*\(401 unauthorized\)$/m);
    const reader = await mtor(["freeze", "--token", TOKENS.read], { env });
    expect(reader.code).toBe(1);
    expect(reader.stderr).toContain("403 forbidden");
    expect((await mtor(["list", "--token", TOKENS.read], { env })).code).toBe(0);
  });

  it("an unreachable control plane exits 3; no token at all exits 2", async () => {
    const port = await freePort();
    const down = await mtor(["list"], { env: { ...env, MTOR_URL: `http://127.0.0.1:${port}` } });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach the control plane at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    const json = await mtor(["list", "--json", "--url", `http://127.0.0.1:${port}`], { env });
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: "unreachable" } });

    const none = await mtor(["list"], { env: { HOME: join(home, "nobody"), MTOR_URL: cp.url } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no operator token");
  });

  it("reads url and token from ~/.config/mtor/config.toml; env and flags override it", async () => {
    const h = join(home, "configured");
    mkdirSync(join(h, ".config", "mtor"), { recursive: true });
    writeFileSync(join(h, ".config", "mtor", "config.toml"), `url = "${cp.url}"\ntoken = "${TOKENS.read}"\n`);
    expect((await mtor(["list"], { env: { HOME: h } })).code).toBe(0);
    // The file's read token may not freeze; env's admin token may; a flag beats both.
    expect((await mtor(["freeze"], { env: { HOME: h } })).stderr).toContain("403");
    expect((await mtor(["thaw"], { env: { HOME: h, MTOR_TOKEN: TOKENS.admin } })).code).toBe(0);
    expect(
      (await mtor(["thaw", "--token", "wrong"], { env: { HOME: h, MTOR_TOKEN: TOKENS.admin } })).code,
    ).toBe(1);
  });

  it("the mtor binary exits with the same codes and prints no stack trace", async () => {
    const bin = join(REPO_ROOT, "executor", "bin", "mtor.js");
    const run = (args: string[], extra: Record<string, string> = {}) =>
      new Promise<{ code: number; stderr: string; stdout: string }>((done) => {
        execFile(
          process.execPath,
          [bin, ...args],
          { env: { ...process.env, ...env, ...extra } },
          (err, stdout, stderr) =>
            done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const [ok, refused, usage, down] = await Promise.all([
      run(["list", "--json"]),
      run(["show", "nosuchspec"]),
      run(["list", "--bogus"]),
      run(["list"], { MTOR_URL: `http://127.0.0.1:${await freePort()}` }),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toHaveProperty("specs");
    expect(refused).toMatchObject({ code: 1 });
    expect(usage).toMatchObject({ code: 2 });
    expect(down).toMatchObject({ code: 3 });
    for (const r of [refused, usage, down]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("the reviewer in show", () => {
  it("show prints the reviewer's grade, findings and tokens", async () => {
    await dispatch("graded by the reviewer");
    // The oldest queued spec is claimed: that one gets the review.
    const id = await runToVerdict("passed", "done", "demo", {
      review: {
        provider: "big",
        model: "big-1",
        grade: "C+",
        findings: [{ severity: "major", file: "src/pick.ts", line: 4, note: "the jitter is never applied" }],
        summary: "half done",
      },
      usage: {
        input_tokens: 1,
        output_tokens: 2,
        cost_usd: 0,
        turns: 1,
        review: { input_tokens: 900, output_tokens: 80, cost_usd: 0.0123 },
      },
    });
    const shown = await mtor(["show", id], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^ {2}review {3}C\+ by big big-1: half done$/m);
    expect(shown.stdout).toMatch(/^ {4}major src\/pick.ts:4: the jitter is never applied$/m);
    expect(shown.stdout).toMatch(/^ {2}reviewer 900 in \/ 80 out tokens, \$0\.0123$/m);
    // The worker reported no cost and its provider has no prices: it counts the fallback, the
    // reviewer's reported cost on top.
    expect(shown.stdout).toMatch(/^ {2}budget {3}counts \$1\.0123 \(fallback price: no cost known\)$/m);
  });
});
