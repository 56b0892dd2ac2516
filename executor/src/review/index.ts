// The reviewer: after the gates pass, a (usually stronger) model on an Anthropic-compatible
// Messages API grades the change against the spec with a fixed rubric. Its answer is validated
// with zod, retried once when malformed, and never blocks the queue: a timeout, an error or a
// 529 reports the run without a grade.
import {
  DEFAULT_GATES,
  type GateFlag,
  type GateSetting,
  Grade,
  ReviewFinding,
  type ReviewUsage,
  type RunReview,
  type Spec,
} from "@mtor/schema";
import { z } from "zod";
import { git } from "../git";

/** Marks a request as the reviewer's (the demo provider answers it with a scripted grade). */
export const REVIEW_MARKER = "You are mtor's reviewer.";

export const RUBRIC = [
  "Did the change do what the spec asked, and nothing more?",
  "Are the tests it adds meaningful: would they fail if the change were wrong?",
  "Is there any destructive simplification: existing logic deleted, gutted or replaced by something cruder?",
  "Does it fit the codebase: its style, structure and existing helpers?",
];

const SYSTEM = `${REVIEW_MARKER} You grade one change a coding agent made for a spec, after mechanical gates passed.
Judge it by this rubric:
${RUBRIC.map((r, i) => `${i + 1}. ${r}`).join("\n")}
Grades: A excellent, B good, C acceptable with problems, D poor, F wrong or destructive; + and - allowed.
Answer with only a JSON object, no prose around it:
{"grade": "B+", "findings": [{"severity": "info|minor|major|critical", "file": "path", "line": 12, "note": "..."}], "summary": "one or two sentences"}`;

export const ReviewAnswer = z.object({
  grade: Grade,
  findings: z.array(ReviewFinding).max(50),
  summary: z.string().max(4000),
});
export type ReviewAnswer = z.infer<typeof ReviewAnswer>;

export interface ReviewerConfig {
  /** The provider's name in the config, reported with the grade. */
  provider: string;
  baseUrl: string;
  token: string;
  model: string;
  /** Below this grade the run is rejected with flag `review`. Default D. */
  minGrade: string;
  timeoutMs: number;
  /** Bytes of diff sent at most; the rest is cut and the cut is said. */
  maxDiffBytes: number;
  /** Dollars per million input and output tokens, for the reviewer's own cost. */
  priceInPerMtok?: number;
  priceOutPerMtok?: number;
}

export interface ReviewInput {
  spec: Pick<Spec, "title" | "body"> & Partial<Pick<Spec, "targets" | "tests" | "removes" | "stop">>;
  diff: string;
  flags: GateFlag[];
}

export interface ReviewResult {
  review: RunReview;
  usage: ReviewUsage;
}

/** A grade as a number: A+ highest, F lowest. */
export function gradeRank(g: string): number {
  const base = "FEDCBA".indexOf(g[0]);
  const mod = g[1] === "+" ? 1 : g[1] === "-" ? -1 : 0;
  return base * 3 + mod;
}

export function belowMin(grade: string, minGrade: string): boolean {
  return gradeRank(grade) < gradeRank(minGrade);
}

/** Cuts a diff to at most `max` bytes at a line boundary, saying what was left out. */
export function truncateDiff(diff: string, max: number): string {
  const bytes = Buffer.byteLength(diff);
  if (bytes <= max) return diff;
  let cut = Buffer.from(diff).subarray(0, max).toString("utf8");
  const nl = cut.lastIndexOf("\n");
  if (nl > 0) cut = cut.slice(0, nl + 1);
  const shownLines = cut.split("\n").length - 1;
  const totalLines = diff.split("\n").length;
  return `${cut}\n[diff truncated: showing the first ${shownLines} of ${totalLines} lines (${Buffer.byteLength(cut)} of ${bytes} bytes); judge only what is shown and say so if it matters]\n`;
}

export function reviewPrompt(input: ReviewInput, maxDiffBytes: number): string {
  const s = input.spec;
  const list = (name: string, v?: readonly string[]) =>
    v && v.length > 0 ? `${name}: ${v.join(", ")}\n` : "";
  const flags =
    input.flags.length === 0
      ? "none"
      : input.flags.map((f) => `- ${f.gate} (${f.action}): ${f.detail}`).join("\n");
  return `## Spec: ${s.title}
${list("targets", s.targets)}${list("tests", s.tests)}${list("removes", s.removes)}${s.stop ? `stop: ${s.stop}\n` : ""}
${s.body}

## Gate results
All rejecting gates passed. Flags raised for review:
${flags}

## Diff
\`\`\`diff
${truncateDiff(input.diff, maxDiffBytes)}\`\`\`
`;
}

/** Pulls the JSON object out of an answer that may wrap it in a code fence or prose. */
function parseAnswer(text: string): { ok: true; answer: ReviewAnswer } | { ok: false; error: string } {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end < start) return { ok: false, error: "no JSON object in the answer" };
  let data: unknown;
  try {
    data = JSON.parse(text.slice(start, end + 1));
  } catch (e) {
    return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
  }
  const r = ReviewAnswer.safeParse(data);
  if (!r.success) {
    return {
      ok: false,
      error: r.error.issues.map((i) => `${i.path.join(".") || "answer"}: ${i.message}`).join("; "),
    };
  }
  return { ok: true, answer: r.data };
}

interface Message {
  role: "user" | "assistant";
  content: string;
}

class ReviewerError extends Error {}

async function ask(
  cfg: ReviewerConfig,
  messages: Message[],
  signal: AbortSignal,
  fetchImpl: typeof fetch,
): Promise<{ text: string; input: number; output: number }> {
  const url = `${cfg.baseUrl.replace(/\/+$/, "")}/v1/messages`;
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-api-key": cfg.token,
        authorization: `Bearer ${cfg.token}`,
        "anthropic-version": "2023-06-01",
      },
      body: JSON.stringify({ model: cfg.model, max_tokens: 2048, system: SYSTEM, messages }),
      signal,
    });
  } catch (e) {
    if (signal.aborted) throw new ReviewerError(`timed out after ${Math.round(cfg.timeoutMs / 1000)}s`);
    throw new ReviewerError(`could not reach ${cfg.provider}: ${(e as Error).message}`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    if (signal.aborted) throw new ReviewerError(`timed out after ${Math.round(cfg.timeoutMs / 1000)}s`);
    throw new ReviewerError(`${cfg.provider} answered ${res.status} without JSON`);
  }
  if (!res.ok) {
    const err = (body as { error?: { type?: string; message?: string } })?.error;
    throw new ReviewerError(
      `${cfg.provider} answered ${res.status}${err?.type ? ` ${err.type}` : ""}${err?.message ? `: ${err.message}` : ""}`,
    );
  }
  const msg = body as { content?: { type: string; text?: string }[]; usage?: Record<string, number> };
  const text = (msg.content ?? [])
    .filter((b) => b.type === "text")
    .map((b) => b.text ?? "")
    .join("");
  return { text, input: msg.usage?.input_tokens ?? 0, output: msg.usage?.output_tokens ?? 0 };
}

/**
 * Asks the reviewer for a grade. Never throws: a reviewer that fails, times out or answers
 * badly twice gives a review without a grade whose `error` says why.
 */
export async function reviewChange(
  cfg: ReviewerConfig,
  input: ReviewInput,
  opts: { fetch?: typeof fetch; signal?: AbortSignal } = {},
): Promise<ReviewResult> {
  const fetchImpl = opts.fetch ?? fetch;
  const usage = { input_tokens: 0, output_tokens: 0, cost_usd: 0 };
  const base = { provider: cfg.provider, model: cfg.model, findings: [] };
  const timeout = AbortSignal.timeout(cfg.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  const messages: Message[] = [{ role: "user", content: reviewPrompt(input, cfg.maxDiffBytes) }];
  const cost = () =>
    (usage.input_tokens * (cfg.priceInPerMtok ?? 0) + usage.output_tokens * (cfg.priceOutPerMtok ?? 0)) / 1e6;
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await ask(cfg, messages, signal, fetchImpl);
      usage.input_tokens += r.input;
      usage.output_tokens += r.output;
      const parsed = parseAnswer(r.text);
      if (parsed.ok) {
        const { grade, findings, summary } = parsed.answer;
        return { review: { ...base, grade, findings, summary }, usage: { ...usage, cost_usd: cost() } };
      }
      if (attempt === 1) {
        return {
          review: { ...base, error: `no grade: the reviewer's answer was malformed twice (${parsed.error})` },
          usage: { ...usage, cost_usd: cost() },
        };
      }
      messages.push(
        { role: "assistant", content: r.text.slice(0, 8000) || "(empty)" },
        {
          role: "user",
          content: `That answer is not usable (${parsed.error}). Answer again with only the JSON object of the required shape.`,
        },
      );
    }
  } catch (e) {
    const why = e instanceof ReviewerError ? e.message : `failed: ${(e as Error).message}`;
    return {
      review: { ...base, error: `no grade: the reviewer ${why}` },
      usage: { ...usage, cost_usd: cost() },
    };
  }
  return { review: { ...base, error: "no grade" }, usage: { ...usage, cost_usd: cost() } };
}

/** The flag a grade below the minimum raises, with the findings as its detail. */
export function reviewFlag(review: RunReview, minGrade: string): GateFlag | undefined {
  if (!review.grade || !belowMin(review.grade, minGrade)) return undefined;
  const findings = review.findings
    .slice(0, 10)
    .map((f) => `${f.severity} ${f.file}${f.line !== undefined ? `:${f.line}` : ""}: ${f.note}`);
  return {
    gate: "review",
    action: "reject",
    detail: `graded ${review.grade}, below ${minGrade}${review.summary ? `: ${review.summary}` : ""}${findings.length ? `\n${findings.map((f) => `- ${f}`).join("\n")}` : ""}`,
    facts: {
      kind: "review",
      grade: review.grade,
      min_grade: minGrade,
      ...(review.summary ? { summary: review.summary } : {}),
      findings,
    },
  };
}

/**
 * Three reviewer failures in a row (timeouts, errors, 5xx) open the breaker for a cooldown
 * (5 minutes, doubling to an hour): runs meanwhile get no grade at once instead of waiting out
 * a reviewer that is down. Then one review is let through; a grade closes it.
 */
export class ReviewBreaker {
  static readonly THRESHOLD = 3;
  static readonly BASE_MS = 5 * 60_000;
  static readonly MAX_MS = 60 * 60_000;
  private failures = 0;
  private openUntil = 0;
  private cooldownMs = ReviewBreaker.BASE_MS;

  constructor(private readonly now: () => number = Date.now) {}

  /** Why the reviewer is skipped now, or undefined when it may be asked. */
  skipReason(): string | undefined {
    if (this.now() >= this.openUntil) return undefined;
    return `no grade: the reviewer's breaker is open after ${ReviewBreaker.THRESHOLD} failures in a row, until ${new Date(this.openUntil).toISOString()}`;
  }

  record(ok: boolean): void {
    if (ok) {
      this.failures = 0;
      this.cooldownMs = ReviewBreaker.BASE_MS;
      this.openUntil = 0;
      return;
    }
    this.failures++;
    if (this.failures >= ReviewBreaker.THRESHOLD) {
      this.openUntil = this.now() + this.cooldownMs;
      this.cooldownMs = Math.min(this.cooldownMs * 2, ReviewBreaker.MAX_MS);
      this.failures = ReviewBreaker.THRESHOLD - 1; // half-open: one more failure opens it again
    }
  }
}

/** What the gates step returns, with the reviewer's grade folded in. */
export interface Reviewed {
  outcome: "passed" | "rejected";
  flags: GateFlag[];
  review?: RunReview;
  reviewUsage?: ReviewUsage;
}

/**
 * Runs the reviewer over a change whose gates passed and folds its grade into the outcome: a
 * grade below the minimum adds the `review` flag with the action the control plane set for it.
 * Gates that rejected, a reviewer turned off, or no reviewer configured leave the report as is.
 */
export async function reviewAfterGates(
  cfg: ReviewerConfig | undefined,
  setting: GateSetting | undefined,
  input: { spec: ReviewInput["spec"]; repoDir: string; mergeBase: string; headSha: string },
  report: { outcome: "passed" | "rejected"; flags: GateFlag[] },
  opts: { fetch?: typeof fetch; signal?: AbortSignal; breaker?: ReviewBreaker } = {},
): Promise<Reviewed> {
  const action = (setting ?? DEFAULT_GATES.review).action;
  if (!cfg || report.outcome !== "passed" || action === "off") return report;
  const skipped = opts.breaker?.skipReason();
  if (skipped)
    return { ...report, review: { provider: cfg.provider, model: cfg.model, findings: [], error: skipped } };
  let diff: string;
  try {
    diff = await git(input.repoDir, [
      "diff",
      "--no-color",
      "--no-ext-diff",
      "-M",
      input.mergeBase,
      input.headSha,
    ]);
  } catch (e) {
    return {
      ...report,
      review: {
        provider: cfg.provider,
        model: cfg.model,
        findings: [],
        error: `no grade: could not read the diff (${(e as Error).message})`,
      },
    };
  }
  const { review, usage } = await reviewChange(cfg, { spec: input.spec, diff, flags: report.flags }, opts);
  // A malformed answer is the reviewer's judgment failing, not the reviewer being down.
  if (!opts.signal?.aborted)
    opts.breaker?.record(review.grade !== undefined || /malformed/.test(review.error ?? ""));
  const flag = reviewFlag(review, cfg.minGrade);
  if (!flag) return { ...report, review, reviewUsage: usage };
  const flags = [...report.flags, { ...flag, action }];
  return {
    outcome: action === "reject" ? "rejected" : report.outcome,
    flags,
    review,
    reviewUsage: usage,
  };
}
