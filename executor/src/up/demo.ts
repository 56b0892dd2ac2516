// `mtor demo`: a throwaway local stack, the example specs dispatched, progress while they run,
// then the morning report. Everything is removed afterwards.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { DispatchResponse, SettingsView, SpecDetail } from "@mtor/schema";
import { OperatorClient } from "../http/client";
import type { Env } from "../http/settings";
import { freePort } from "../local/control-plane";
import { branches } from "./sandbox";
import { type Stack, startStack } from "./stack";

export interface DemoOptions {
  examplesDir: string;
  env: Env;
  out: (line: string) => void;
  verbose: boolean;
  /** Seconds to wait for every spec to settle. */
  timeoutS: number;
  /** Keep the state directory (for a look afterwards). */
  keep: boolean;
  signal: AbortSignal;
  /** Where the throwaway state goes; default a new temp dir. */
  stateDir?: string;
}

const UNSETTLED = new Set(["queued", "leased", "running"]);
const GOOD_ENDS = new Set(["awaiting_review", "approved", "rejected"]);
/** The demo night's review backlog limit: low, so the control is seen acting on five specs. */
/** Above what the demo night spends, so the report shows spend against it without a hold. */
const DEMO_BUDGET_USD = 25;
const DEMO_MAX_AWAITING_REVIEW = 2;

export async function runDemo(o: DemoOptions): Promise<number> {
  const files = readdirSync(o.examplesDir)
    .filter((f) => f.endsWith(".md"))
    .sort();
  if (files.length === 0) {
    o.out(`mtor demo: no example specs (*.md) in ${o.examplesDir}`);
    return 2;
  }
  const stateDir = o.stateDir ?? mkdtempSync(join(tmpdir(), "mtor-demo-"));
  const started = Date.now();
  const t = () => `${String(Math.round((Date.now() - started) / 1000)).padStart(3)}s`;
  // The real-provider env vars are ignored: the demo is about the scripted model's fixed story.
  const env: Env = { ...o.env, MTOR_DEMO: "1" };

  o.out("mtor demo: a throwaway local stack with the built-in demo provider —");
  o.out("           a SCRIPTED model, not a real LLM, driving the real claude CLI.");
  let stack: Stack | undefined;
  try {
    stack = await startStack({
      stateDir,
      port: await freePort(),
      env,
      log: o.out,
      verbose: o.verbose,
      capacity: 3,
      cpuCores: 64,
      // The demo model also plays the reviewer, so the report shows grades.
      reviewer: "demo",
    });
    o.out(`${t()}  control plane ${stack.url}, one executor, sandbox repo ${stack.sandboxRepo}`);
    const client = new OperatorClient({ url: stack.url, token: stack.token });
    await client.put("/v1/providers/demo", { slots: 3 });
    await client.put("/v1/settings", {
      max_awaiting_review: DEMO_MAX_AWAITING_REVIEW,
      budget_usd: DEMO_BUDGET_USD,
    });
    o.out(
      `${t()}  review backlog limit ${DEMO_MAX_AWAITING_REVIEW}: with that many specs awaiting review, executors get no new runs`,
    );
    o.out(
      `${t()}  spend budget $${DEMO_BUDGET_USD} a night: a run with no reported cost counts $1; at the budget, executors get no new runs`,
    );

    const since = new Date(started - 60_000).toISOString();
    const ids: { id: string; file: string; title: string }[] = [];
    for (const file of files) {
      const text = readFileSync(join(o.examplesDir, file), "utf8");
      const res = await client.post<DispatchResponse>("/v1/specs", text);
      ids.push({ id: res.id, file, title: res.title });
      o.out(`${t()}  dispatched ${res.id}  ${basename(file)}  "${res.title}"`);
    }

    const last = new Map<string, string>();
    const deadline = Date.now() + o.timeoutS * 1000;
    let details: SpecDetail[] = [];
    while (!o.signal.aborted) {
      details = await Promise.all(ids.map((s) => client.get<SpecDetail>(`/v1/specs/${s.id}`)));
      for (const d of details) {
        const run = d.runs[d.runs.length - 1];
        const phase = run && !run.outcome && run.phase ? ` (${run.phase})` : "";
        const flags = (run?.flags ?? [])
          .map((f) => `${f.gate}${f.action === "review" ? "?" : ""}`)
          .join(", ");
        const line = `${d.status}${phase}${flags ? `  flags: ${flags}` : ""}`;
        if (last.get(d.id) !== line) {
          last.set(d.id, line);
          o.out(`${t()}  ${d.id}  ${line.padEnd(30)}  ${d.title}`);
        }
      }
      if (details.every((d) => !UNSETTLED.has(d.status))) break;
      // The backlog control at work: while it holds queued specs, the demo plays the reviewer
      // and approves the oldest spec awaiting review, which lets the executor claim again.
      if (details.some((d) => d.status === "queued")) {
        const { review_backlog: b } = await client.get<SettingsView>("/v1/settings");
        const oldest = details
          .filter((d) => d.status === "awaiting_review")
          .sort((a, b) => a.updated_at.localeCompare(b.updated_at))[0];
        if (b.holding && oldest) {
          o.out(
            `${t()}  review backlog full (${b.awaiting_review} of ${b.max_awaiting_review}): claims answer review_backlog; the demo reviewer approves ${oldest.id}`,
          );
          await client.post(`/v1/specs/${oldest.id}/approve`, { grade: "B", note: "approved by mtor demo" });
          continue;
        }
      }
      if (Date.now() > deadline) {
        o.out(`mtor demo: not every spec finished within ${o.timeoutS}s; the report shows where they are.`);
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (o.signal.aborted) {
      o.out("mtor demo: interrupted.");
      return 130;
    }

    o.out("");
    o.out("──────────────────────── the morning report ────────────────────────");
    const report = await client.get<string>("/v1/report", { query: { since }, text: true });
    o.out(report.trimEnd());
    o.out("────────────────────────────────────────────────────────────────────");
    const pushed = branches(stack.sandboxRepo).filter((b) => b.startsWith("mtor/"));
    o.out(`branches pushed to the sandbox: ${pushed.join(", ") || "none"}`);
    const ok = details.length === ids.length && details.every((d) => GOOD_ENDS.has(d.status));
    o.out(
      ok
        ? `mtor demo: done in ${Math.round((Date.now() - started) / 1000)}s. Review and approve for real with \`npm start\`.`
        : "mtor demo: some specs did not end awaiting review or rejected; see above.",
    );
    return ok ? 0 : 1;
  } catch (err) {
    o.out(`mtor demo: ${(err as Error).message}`);
    return 1;
  } finally {
    await stack?.stop();
    if (!o.keep && !o.stateDir) rmSync(stateDir, { recursive: true, force: true });
    else o.out(`state kept in ${stateDir}`);
  }
}
