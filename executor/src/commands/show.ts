// `mtor show ID`: one spec with its front matter, runs (flags, diffstat, log tail) and review;
// `mtor show ID --diff`: the latest run's patch.
import type { RunView, SpecDetail } from "@mtor/schema";
import { formatBytes, parsePatch } from "@mtor/schema/patch";
import { readableLog } from "../harness/log";
import { seg } from "../http/client";
import { ago, diffstat, duration } from "../http/output";
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";
import { plainText } from "./terminal";

export function showCommand(io: Io) {
  return apiCommand("show", "show one spec with its runs and review")
    .argument("<id>", "spec id")
    .option("--log <lines>", "lines of each run's log tail to print", "20")
    .option("--diff", "print the change of the latest run that carries one, as a patch")
    .action(
      apiAction(io, async (ctx, id: string, opts: { log: string; diff?: boolean }) => {
        const spec = await ctx.client.get<SpecDetail>(`/v1/specs/${seg(id)}`);
        if (opts.diff) return printDiff(ctx.io, spec, ctx.json);
        if (ctx.json) return ctx.printJson(spec);
        ctx.io.out(renderSpec(spec, Number(opts.log) || 0));
      }),
    );
}

/**
 * The latest patch on stdout, coloured on a terminal and plain otherwise (so `| git apply` works);
 * which run it is and any truncation go to stderr. Exit 1 when no run carries one.
 */
function printDiff(io: Io, s: SpecDetail, json: boolean): void {
  const run = [...(s.runs ?? [])].reverse().find((r) => r.patch);
  if (!run?.patch) {
    io.err(`${s.id} has no run whose verdict carried a patch`);
    io.exitCode = 1;
    return;
  }
  if (json) {
    io.out(JSON.stringify({ run: run.id, attempt: run.attempt, ...run.patch }, null, 2));
    return;
  }
  const p = run.patch;
  const cut = p.truncated
    ? `  cut at ${formatBytes(Buffer.byteLength(p.text))} of ${formatBytes(p.bytes)}: the branch${run.branch ? ` ${run.branch}` : ""} has the rest`
    : "";
  io.err(`run ${run.id}  attempt ${run.attempt}${cut}`);
  if (io.isTTY) io.outStyled(colourPatch(p.text));
  else io.out(plainText(p.text));
}

const SGR = { bold: "\x1b[1m", cyan: "\x1b[36m", green: "\x1b[32m", red: "\x1b[31m", reset: "\x1b[0m" };

/** The patch with every control sequence it held removed, then coloured as `git diff` colours it. */
export function colourPatch(text: string): string {
  const out: string[] = [];
  for (const file of parsePatch(plainText(text))) {
    for (const l of file.lines) {
      const colour =
        l.kind === "add"
          ? SGR.green
          : l.kind === "del"
            ? SGR.red
            : l.kind === "hunk"
              ? SGR.cyan
              : l.kind === "meta"
                ? SGR.bold
                : "";
      out.push(colour ? `${colour}${l.text}${SGR.reset}` : l.text);
    }
  }
  return `${out.join("\n")}\n`;
}

/**
 * "attempt 1 of 3"; after an operator retry the budget is the spec's `attempts` again, counted
 * from the retry: "attempt 2 of 2 (attempts: 1, renewed by a retry)".
 */
function attemptLine(s: SpecDetail): string {
  const base = `attempt ${s.attempt} of ${s.max_attempt}`;
  return s.max_attempt > s.front_matter.attempts
    ? `${base} (attempts: ${s.front_matter.attempts}, renewed by a retry)`
    : base;
}

export function renderSpec(s: SpecDetail, logLines: number): string {
  const fm = s.front_matter;
  const lines = [
    `${s.id}  ${s.title}`,
    `status    ${s.status}${s.outcome ? ` (last outcome ${s.outcome})` : ""}, ${attemptLine(s)}`,
    `repo      ${fm.repo}${fm.base ? ` @ ${fm.base}` : ""}   provider ${s.provider}${fm.model ? `   model ${fm.model}` : ""}`,
  ];
  if (fm.targets?.length) lines.push(`targets   ${fm.targets.join(", ")}`);
  if (fm.tests?.length) lines.push(`tests     ${fm.tests.join(", ")}`);
  if (fm.stop) lines.push(`stop      ${fm.stop}`);
  lines.push(`created   ${ago(s.created_at)}   updated ${ago(s.updated_at)}`);
  if (s.next_attempt_at) lines.push(`next try  ${ago(s.next_attempt_at)}`);
  for (const w of s.warnings ?? []) lines.push(`warning   ${w}`);
  if (s.review) {
    lines.push(
      `review    ${s.review.decision}${s.review.grade ? ` grade ${s.review.grade}` : ""} by ${s.review.by} ${ago(s.review.at)}${s.review.note ? ` — ${s.review.note}` : ""}`,
    );
  }
  for (const r of s.runs ?? []) lines.push("", ...renderRun(r, logLines));
  if (!s.runs?.length) lines.push("", "no runs yet");
  return lines.join("\n");
}

function renderRun(r: RunView, logLines: number): string[] {
  const out = [
    `run ${r.id}  attempt ${r.attempt}  on ${r.executor}  via ${r.provider}  ${r.outcome ?? r.phase ?? r.status}  ${duration(r.duration_ms)}`,
  ];
  if (r.branch)
    out.push(
      `  branch   ${r.branch}${r.head_sha ? ` @ ${r.head_sha.slice(0, 10)}` : ""}${r.commits !== null ? ` (${r.commits} commit${r.commits === 1 ? "" : "s"})` : ""}`,
    );
  if (r.diffstat) out.push(`  diff     ${diffstat(r.diffstat)}`);
  if (r.patch)
    out.push(
      `  patch    ${formatBytes(r.patch.bytes)}${r.patch.truncated ? " (cut for the verdict)" : ""}: mtor show --diff`,
    );
  for (const f of r.flags ?? []) out.push(`  flag     ${f.gate} (${f.action}): ${f.detail}`);
  if (r.failure) out.push(`  failure  ${r.failure.kind}: ${r.failure.message}`);
  if (r.usage)
    out.push(
      `  usage    ${r.usage.input_tokens} in / ${r.usage.output_tokens} out tokens, $${r.usage.cost_usd.toFixed(4)}, ${r.usage.turns} turns`,
    );
  if (r.usage?.review)
    out.push(
      `  reviewer ${r.usage.review.input_tokens} in / ${r.usage.review.output_tokens} out tokens, $${r.usage.review.cost_usd.toFixed(4)}`,
    );
  if (r.cost_usd != null)
    out.push(
      `  budget   counts $${r.cost_usd.toFixed(4)}${r.cost_source === "reported" ? "" : ` (${r.cost_source === "price" ? "tokens at the provider's prices" : "fallback price: no cost known"})`}`,
    );
  if (r.review) {
    const who = `${r.review.provider}${r.review.model ? ` ${r.review.model}` : ""}`;
    out.push(
      r.review.grade
        ? `  review   ${r.review.grade} by ${who}${r.review.summary ? `: ${r.review.summary}` : ""}`
        : `  review   ${r.review.error ?? "no grade"} (${who})`,
    );
    for (const f of r.review.findings)
      out.push(`    ${f.severity} ${f.file}${f.line !== undefined ? `:${f.line}` : ""}: ${f.note}`);
  }
  if (r.log_tail && logLines > 0) {
    // Runs reported before the executor made its log readable still end in one JSON line.
    const tail = readableLog(r.log_tail).trimEnd().split("\n").slice(-logLines);
    out.push("  log:", ...tail.map((l) => `    ${l}`));
  }
  return out;
}
