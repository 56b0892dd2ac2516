// The dashboard's pages as components: queue, spec, fleet, gates, dispatch, report, login.
import type {
  BudgetView,
  ExecutorView,
  GateSetting,
  ProviderView,
  ReviewBacklog,
  SpecDetail,
  SpecSummary,
  StatusView,
} from "@mtor/schema";
import { ago, usd } from "@mtor/schema/format";
import { formatBytes, parsePatch } from "@mtor/schema/patch";
import { KILLABLE_STATUSES, type RunPatch } from "@mtor/schema/wire";
import { raw } from "hono/html";
import type { Report } from "../report/build";
import { BudgetBars, Csrf, Flags, Notices, NumberForm, StatusBadge } from "./layout";

export const FILTERS: [string, string, string][] = [
  ["all", "All", ""],
  ["active", "Active", "queued,leased,running"],
  ["review", "Review", "awaiting_review"],
  ["problems", "Problems", "rejected,failed,dead"],
  ["done", "Done", "approved,declined,canceled"],
];

export function QueueList(props: { specs: SpecSummary[] }) {
  if (props.specs.length === 0) return <p class="empty">Nothing here. Dispatch a spec to get going.</p>;
  return (
    <div>
      {props.specs.map((s) => (
        <a class="card" href={`/specs/${encodeURIComponent(s.id)}`} data-spec={s.id} data-status={s.status}>
          <div class="row">
            <StatusBadge status={s.status} />
            <span class="title">{s.title}</span>
          </div>
          <div class="row muted">
            <span>{s.id}</span>
            <span>{s.run_provider ?? s.provider}</span>
            <span>try {s.attempt}</span>
            <span>{ago(s.updated_at)}</span>
          </div>
          <Flags flags={s.flags} />
        </a>
      ))}
    </div>
  );
}

export function QueuePage(props: { filter: string; specs: SpecSummary[]; counts: Record<string, number> }) {
  const poll = `/fragments/queue?filter=${encodeURIComponent(props.filter)}`;
  const count = (statuses: string) =>
    statuses === ""
      ? Object.values(props.counts).reduce((a, b) => a + b, 0)
      : statuses.split(",").reduce((n, s) => n + (props.counts[s] ?? 0), 0);
  return (
    <>
      <nav class="chips" aria-label="Filter by status">
        {FILTERS.map(([key, label, statuses]) => (
          <a
            href={key === "all" ? "/" : `/?filter=${key}`}
            aria-current={props.filter === key ? "page" : undefined}
          >
            {label} {count(statuses)}
          </a>
        ))}
      </nav>
      <div id="queue" data-poll={poll}>
        <QueueList specs={props.specs} />
      </div>
    </>
  );
}

/** The part of the spec page that changes while it runs; its key reloads the page on change. */
export function SpecLive(props: { spec: SpecDetail }) {
  const s = props.spec;
  const last = s.runs[s.runs.length - 1];
  const key = `${s.status}|${s.runs.length}|${last?.phase ?? ""}|${last?.outcome ?? ""}`;
  return (
    <div class="row" data-key={key}>
      <StatusBadge status={s.status} />
      {last && !last.outcome && last.phase && <span class="muted">phase {last.phase}</span>}
      <span class="muted">updated {ago(s.updated_at)}</span>
    </div>
  );
}

const ACTIVE = ["queued", "leased", "running"];
const RETRYABLE = ["rejected", "failed", "dead", "canceled", "declined"];
const KILLABLE: readonly string[] = KILLABLE_STATUSES;
const GRADES = ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D", "F"];

export function SpecPage(props: { spec: SpecDetail; csrf: string; notice?: string; error?: string }) {
  const s = props.spec;
  const fm = s.front_matter;
  const base = `/specs/${encodeURIComponent(s.id)}`;
  return (
    <>
      <Notices notice={props.notice} error={props.error} />
      <div class="card">
        <div class="title" style="font-size:1.1rem">
          {s.title}
        </div>
        <div id="live" data-poll={`/fragments/specs/${encodeURIComponent(s.id)}`} data-reload-on-change="">
          <SpecLive spec={s} />
        </div>
        <dl>
          <dt>id</dt>
          <dd>{s.id}</dd>
          <dt>repo</dt>
          <dd>
            {fm.repo}
            {fm.base ? ` @ ${fm.base}` : ""}
          </dd>
          <dt>provider</dt>
          <dd>
            {s.provider}
            {fm.model ? ` · ${fm.model}` : ""}
          </dd>
          <dt>attempt</dt>
          <dd>
            {s.attempt} of {s.max_attempt}
            {s.max_attempt > fm.attempts
              ? ` (attempts: ${fm.attempts}, raised by a retry or a lost lease)`
              : ""}
            {s.next_attempt_at ? ` · next ${ago(s.next_attempt_at)}` : ""}
          </dd>
          {fm.targets.length > 0 && (
            <>
              <dt>targets</dt>
              <dd>{fm.targets.join(", ")}</dd>
            </>
          )}
          {fm.tests && fm.tests.length > 0 && (
            <>
              <dt>tests</dt>
              <dd>{fm.tests.join(", ")}</dd>
            </>
          )}
          {fm.stop && (
            <>
              <dt>stop</dt>
              <dd>{fm.stop}</dd>
            </>
          )}
        </dl>
        {s.warnings.map((w) => (
          <div class="muted">⚠ {w}</div>
        ))}
        {s.review && (
          <p>
            <strong>{s.review.decision}</strong>
            {s.review.grade ? ` · grade ${s.review.grade}` : ""} by {s.review.by} {ago(s.review.at)}
            {s.review.note ? ` — ${s.review.note}` : ""}
          </p>
        )}
      </div>

      <div class="actions">
        {s.status === "awaiting_review" && (
          <>
            <form method="post" action={`${base}/approve`} class="wide card">
              <Csrf token={props.csrf} />
              <div class="inline">
                <div>
                  <label for="grade">Grade</label>
                  <select id="grade" name="grade">
                    <option value="">none</option>
                    {GRADES.map((g) => (
                      <option value={g}>{g}</option>
                    ))}
                  </select>
                </div>
                <div style="flex:2 1 10rem">
                  <label for="approve-note">Note</label>
                  <input id="approve-note" type="text" name="note" />
                </div>
              </div>
              <p>
                <button class="primary" type="submit" style="width:100%">
                  Approve
                </button>
              </p>
            </form>
            <form method="post" action={`${base}/decline`} class="wide card">
              <Csrf token={props.csrf} />
              <label for="decline-note">Why (feedback for the next attempt)</label>
              <input id="decline-note" type="text" name="note" />
              <label class="check">
                <input type="checkbox" name="retry" value="1" /> queue another attempt
              </label>
              <button class="danger" type="submit" style="width:100%">
                Decline
              </button>
            </form>
          </>
        )}
        {RETRYABLE.includes(s.status) && (
          <form method="post" action={`${base}/retry`}>
            <Csrf token={props.csrf} />
            <button type="submit">Retry</button>
          </form>
        )}
        {KILLABLE.includes(s.status) && (
          <form method="post" action={`${base}/kill`}>
            <Csrf token={props.csrf} />
            <button class="danger" type="submit">
              Kill
            </button>
          </form>
        )}
      </div>

      <h2>Runs</h2>
      {s.runs.length === 0 && (
        <p class="muted">{ACTIVE.includes(s.status) ? "Waiting for an executor." : "No runs."}</p>
      )}
      {[...s.runs].reverse().map((r, i) => (
        <div class="card" data-run={r.id}>
          <div class="row">
            <strong>attempt {r.attempt}</strong>
            <span class={`badge s-${r.outcome === "passed" ? "approved" : (r.outcome ?? "running")}`}>
              {r.outcome ?? r.phase ?? r.status}
            </span>
            <span class="muted">
              {r.executor} · {r.provider}
            </span>
          </div>
          <dl>
            <dt>started</dt>
            <dd>{ago(r.started_at ?? r.claimed_at)}</dd>
            {r.duration_ms !== null && (
              <>
                <dt>took</dt>
                <dd>{Math.round(r.duration_ms / 1000)}s</dd>
              </>
            )}
            {r.branch && (
              <>
                <dt>branch</dt>
                <dd>
                  {r.branch}
                  {r.head_sha ? ` @ ${r.head_sha.slice(0, 10)}` : ""}
                </dd>
              </>
            )}
            {r.diffstat && (
              <>
                <dt>diff</dt>
                <dd class="diffstat">
                  {r.diffstat.files} file{r.diffstat.files === 1 ? "" : "s"}{" "}
                  <span style="color:var(--ok)">+{r.diffstat.insertions}</span>{" "}
                  <span style="color:var(--bad)">-{r.diffstat.deletions}</span>
                  {r.commits !== null ? ` · ${r.commits} commit${r.commits === 1 ? "" : "s"}` : ""}
                </dd>
              </>
            )}
            {r.usage && (
              <>
                <dt>usage</dt>
                <dd>
                  {r.usage.input_tokens + r.usage.output_tokens} tokens · ${r.usage.cost_usd.toFixed(4)} ·{" "}
                  {r.usage.turns} turns
                </dd>
              </>
            )}
            {r.usage?.review && (
              <>
                <dt>reviewer usage</dt>
                <dd>
                  {r.usage.review.input_tokens + r.usage.review.output_tokens} tokens · $
                  {r.usage.review.cost_usd.toFixed(4)}
                </dd>
              </>
            )}
            {r.review && (
              <>
                <dt>review</dt>
                <dd>
                  {r.review.grade ? (
                    <>
                      <strong class="grade">{r.review.grade}</strong> by {r.review.provider}
                      {r.review.summary ? `: ${r.review.summary}` : ""}
                    </>
                  ) : (
                    <span class="muted">
                      {r.review.error ?? "no grade"} ({r.review.provider})
                    </span>
                  )}
                </dd>
              </>
            )}
            {r.failure && (
              <>
                <dt>failure</dt>
                <dd>
                  {r.failure.kind}: {r.failure.message}
                </dd>
              </>
            )}
          </dl>
          {r.flags.map((f) => (
            <div>
              <span class={`flag ${f.action === "review" ? "review" : ""}`}>{f.gate}</span>{" "}
              <span class="muted">{f.detail}</span>
            </div>
          ))}
          {(r.review?.findings ?? []).map((f) => (
            <div class="finding">
              <span class="flag review">{f.severity}</span>{" "}
              <span class="muted">
                {f.file}
                {f.line !== undefined ? `:${f.line}` : ""}: {f.note}
              </span>
            </div>
          ))}
          {r.patch && <PatchView patch={r.patch} open={i === 0} />}
          {r.log_tail && (
            <details>
              <summary>log tail</summary>
              <pre>{r.log_tail.split("\n").slice(-60).join("\n")}</pre>
            </details>
          )}
        </div>
      ))}

      <details class="card">
        <summary>Spec text</summary>
        <pre>{s.body}</pre>
      </details>
    </>
  );
}

/** A run's patch, file by file: added and removed lines coloured, hunk headers marked, long lines wrapped. */
function PatchView(props: { patch: RunPatch; open: boolean }) {
  const files = parsePatch(props.patch.text);
  return (
    <details class="patch" open={props.open}>
      <summary>
        the change ({files.length} file{files.length === 1 ? "" : "s"})
      </summary>
      {props.patch.truncated && (
        <p class="muted">
          Cut at {formatBytes(new TextEncoder().encode(props.patch.text).length)} of{" "}
          {formatBytes(props.patch.bytes)}: the branch has the rest.
        </p>
      )}
      {files.map((f) => (
        <details class="pfile" open>
          <summary>
            <span class="pname">{f.name || "(no file)"}</span> <span class="padd">+{f.added}</span>{" "}
            <span class="pdel">−{f.removed}</span>
          </summary>
          <pre class="diff">
            {f.lines.map((l) => (
              <span class={`l-${l.kind}`}>{l.text || " "}</span>
            ))}
          </pre>
        </details>
      ))}
    </details>
  );
}

export function FleetPage(props: {
  frozen: boolean;
  reviewBacklog?: ReviewBacklog;
  windows?: StatusView["windows"];
  budget?: BudgetView;
  providers: ProviderView[];
  executors: ExecutorView[];
  csrf: string;
  notice?: string;
  error?: string;
}) {
  return (
    <>
      <Notices notice={props.notice} error={props.error} />
      <form method="post" action={props.frozen ? "/fleet/thaw" : "/fleet/freeze"} class="card">
        <Csrf token={props.csrf} />
        <div class="row">
          <span style="flex:1">
            Fleet is <strong>{props.frozen ? "frozen" : "taking work"}</strong>
          </span>
          <button type="submit" class={props.frozen ? "primary" : "danger"}>
            {props.frozen ? "Thaw fleet" : "Freeze fleet"}
          </button>
        </div>
      </form>

      {props.reviewBacklog && <ReviewBacklogCard backlog={props.reviewBacklog} csrf={props.csrf} />}
      <WindowCard windows={props.windows} csrf={props.csrf} />
      {props.budget && <BudgetCard budget={props.budget} providers={props.providers} csrf={props.csrf} />}

      <h2>Providers</h2>
      {props.providers.length === 0 && (
        <p class="muted">No providers yet: an executor that serves one creates it.</p>
      )}
      {props.providers.map((p) => (
        <div class="card" data-provider={p.name}>
          <div class="row">
            <strong style="flex:1">{p.name}</strong>
            <span class={`badge ${p.breaker.state === "closed" ? "s-approved" : "s-failed"}`}>
              breaker {p.breaker.state.replace("_", "-")}
            </span>
            {p.frozen && <span class="badge s-awaiting_review">frozen</span>}
            {!p.enabled && <span class="badge s-canceled">disabled</span>}
          </div>
          <div class="muted">
            {p.in_use} of {p.effective_slots} slots in use
            {p.effective_slots !== p.slots ? ` (halved from ${p.slots} after failures)` : ""} · {p.queued}{" "}
            queued
            {p.cooling_until ? ` · cooling until ${ago(p.cooling_until)}` : ""}
            {p.model ? ` · ${p.harness ?? ""} ${p.model}` : ""}
          </div>
          {p.window && (
            <div class="muted" data-provider-row-window={p.window.open ? "open" : "closed"}>
              window {p.window.window} {p.window.zone}
              {p.window.fit ? " (runs must fit)" : ""} · {p.window.open ? "open" : "closed"} until{" "}
              {ago(p.window.next_change)}
            </div>
          )}
          {p.recent_outcomes.length > 0 && <div class="muted">recent: {p.recent_outcomes.join(" ")}</div>}
          <div class="inline" style="margin-top:.4rem">
            <NumberForm
              action={`/fleet/providers/${encodeURIComponent(p.name)}/slots`}
              csrf={props.csrf}
              name="slots"
              min={1}
              max={256}
              value={p.slots}
              label={`slots for ${p.name}`}
              button="Set slots"
            />
            <form
              method="post"
              action={`/fleet/providers/${encodeURIComponent(p.name)}/${p.frozen ? "thaw" : "freeze"}`}
            >
              <Csrf token={props.csrf} />
              <button type="submit" style="width:100%">
                {p.frozen ? "Thaw" : "Freeze"}
              </button>
            </form>
          </div>
        </div>
      ))}

      <h2>Executors</h2>
      {props.executors.length === 0 && <p class="muted">No executor has checked in.</p>}
      {props.executors.map((e) => (
        <div class="card" data-executor={e.id}>
          <div class="row">
            <strong style="flex:1">{e.id}</strong>
            <span class={`badge ${e.draining ? "s-awaiting_review" : "s-approved"}`}>
              {e.draining ? "draining" : "active"}
            </span>
          </div>
          <div class="muted">
            {e.host} · {e.arch} · v{e.version} · seen {ago(e.last_seen_at)}
          </div>
          <div class="muted">
            {e.runs.length}/{e.capacity} runs
            {e.load ? ` · cpu ${e.load.cpu.toFixed(2)} · mem free ${Math.round(e.load.mem_free * 100)}%` : ""}{" "}
            · serves {e.providers.join(", ") || "-"}
          </div>
          {e.runs.map((r) => (
            <div class="muted">
              <a href={`/specs/${encodeURIComponent(r.spec_id)}`}>{r.spec_id}</a> {r.phase ?? ""}
            </div>
          ))}
          <form
            method="post"
            action={`/fleet/executors/${encodeURIComponent(e.id)}/${e.draining ? "undrain" : "drain"}`}
            style="margin-top:.4rem"
          >
            <Csrf token={props.csrf} />
            <button type="submit">{e.draining ? "Undrain" : "Drain"}</button>
          </form>
        </div>
      ))}
    </>
  );
}

function WindowCard(props: { windows?: StatusView["windows"]; csrf: string }) {
  const w = props.windows?.fleet ?? null;
  return (
    <div class="card" data-window={w ? (w.open ? "open" : "closed") : "none"}>
      <div class="row">
        <strong style="flex:1">Run window</strong>
        <span class={`badge ${!w || w.open ? "s-approved" : "s-failed"}`}>
          {!w ? "any time" : w.open ? "open" : "closed"}
        </span>
      </div>
      <div class="muted">
        {w
          ? `${w.window} ${w.zone}${w.fit ? ", runs must fit" : ""} · ${w.open ? "closes" : "opens"} ${w.next_change.slice(0, 16).replace("T", " ")} UTC`
          : "No fleet window: claims get work at any hour."}
      </div>
      {(props.windows?.providers ?? []).map((p) => (
        <div class="muted" data-provider-window={p.provider}>
          {p.provider}: {p.window} {p.zone} · {p.open ? "open" : "closed"}
        </div>
      ))}
      <form method="post" action="/fleet/settings" class="inline" style="margin-top:.4rem">
        <Csrf token={props.csrf} />
        <input type="hidden" name="kind" value="window" />
        <input
          type="text"
          name="window"
          placeholder="22:00-06:00 (empty = none)"
          value={w?.window ?? ""}
          aria-label="run window"
        />
        <input
          type="text"
          name="window_zone"
          placeholder="UTC"
          value={w?.zone ?? ""}
          aria-label="time zone"
        />
        <label>
          <input type="checkbox" name="window_fit" checked={w?.fit ?? false} /> runs must fit
        </label>
        <button type="submit">Set window</button>
      </form>
    </div>
  );
}

function BudgetCard(props: { budget: BudgetView; providers: ProviderView[]; csrf: string }) {
  const b = props.budget;
  const holding = !!b.fleet?.holding || b.providers.some((l) => l.holding);
  return (
    <div class="card" data-budget-card={holding ? "holding" : "open"}>
      <div class="row">
        <strong style="flex:1">Spend budget</strong>
        <span class={`badge ${holding ? "s-failed" : "s-approved"}`}>
          {holding ? "holding claims" : "taking work"}
        </span>
      </div>
      <div class="muted">
        {usd(b.spend_usd)} spent tonight ·{" "}
        {b.fleet ? `fleet budget ${usd(b.fleet.budget_usd)} a night` : "no fleet budget"} · a run with no
        known cost counts {usd(b.fallback_run_usd)} · the phone's raise adds {usd(b.raise_usd)}
      </div>
      {props.providers
        .filter((p) => p.budget_usd || p.price)
        .map((p) => (
          <div class="muted" data-provider-budget={p.name}>
            {p.name}: {p.budget_usd ? `${usd(p.budget_usd)} a night` : "no budget"}
            {p.price ? ` · $${p.price.input_per_mtok} in / $${p.price.output_per_mtok} out per Mtok` : ""}
          </div>
        ))}
      <form method="post" action="/fleet/settings" class="inline" style="margin-top:.4rem">
        <Csrf token={props.csrf} />
        <input type="hidden" name="kind" value="budget" />
        <input
          type="number"
          name="budget_usd"
          min="0"
          step="0.01"
          placeholder="fleet $ a night (empty = none)"
          value={b.fleet ? String(b.fleet.budget_usd) : ""}
          aria-label="fleet budget in USD a night"
        />
        <input
          type="number"
          name="fallback_run_usd"
          min="0"
          step="0.01"
          value={String(b.fallback_run_usd)}
          aria-label="fallback price in USD a run"
        />
        <input
          type="number"
          name="raise_usd"
          min="0"
          step="0.01"
          value={String(b.raise_usd)}
          aria-label="phone raise in USD"
        />
        <button type="submit">Set budget</button>
      </form>
      <form method="post" action="/fleet/settings" class="inline" style="margin-top:.4rem">
        <Csrf token={props.csrf} />
        <input type="hidden" name="kind" value="provider_budget" />
        <input type="text" name="provider" placeholder="provider" aria-label="provider" />
        <input
          type="number"
          name="budget_usd"
          min="0"
          step="0.01"
          placeholder="$ a night"
          aria-label="provider budget in USD a night"
        />
        <input
          type="number"
          name="price_in"
          min="0"
          step="0.001"
          placeholder="$/Mtok in"
          aria-label="input price in USD per million tokens"
        />
        <input
          type="number"
          name="price_out"
          min="0"
          step="0.001"
          placeholder="$/Mtok out"
          aria-label="output price in USD per million tokens"
        />
        <button type="submit">Set provider budget</button>
      </form>
    </div>
  );
}

function ReviewBacklogCard(props: { backlog: ReviewBacklog; csrf: string }) {
  const b = props.backlog;
  const limit = (n: number | null) => (n === null ? "the fleet's" : n === 0 ? "off" : String(n));
  return (
    <div class="card" data-review-backlog={b.holding ? "holding" : "open"}>
      <div class="row">
        <strong style="flex:1">Review backlog</strong>
        <span class={`badge ${b.holding ? "s-failed" : "s-approved"}`}>
          {b.holding ? "holding claims" : "taking work"}
        </span>
      </div>
      <div class="muted">
        {b.awaiting_review} awaiting review · limit {limit(b.max_awaiting_review)} (at the limit, claims
        answer review_backlog until reviews bring it down)
      </div>
      {b.repos.map((r) => (
        <div class="muted" data-repo={r.repo}>
          {r.repo}: {r.awaiting_review} awaiting · limit {limit(r.max_awaiting_review)}
          {r.holding ? " · holding its claims" : ""}
        </div>
      ))}
      <NumberForm
        action="/fleet/settings"
        csrf={props.csrf}
        name="max_awaiting_review"
        min={0}
        max={10000}
        value={b.max_awaiting_review}
        label="fleet review backlog limit (0 = off)"
        button="Set fleet limit"
        style="margin-top:.4rem"
      />
      <form method="post" action="/fleet/settings" class="inline" style="margin-top:.4rem">
        <Csrf token={props.csrf} />
        <input type="text" name="repo" placeholder="repo" aria-label="repo" />
        <input
          type="number"
          name="repo_max_awaiting_review"
          min="0"
          max="10000"
          placeholder="limit (empty = fleet's)"
          aria-label="repo review backlog limit"
        />
        <button type="submit">Set repo limit</button>
      </form>
    </div>
  );
}

export function GatesPage(props: {
  gates: ({ name: string } & GateSetting)[];
  csrf: string;
  notice?: string;
  error?: string;
}) {
  return (
    <>
      <Notices notice={props.notice} error={props.error} />
      <p class="muted">
        Reject fails the run; review passes it with a warning; off skips the gate. Retry queues another
        attempt after a rejection.
      </p>
      {props.gates.map((g) => (
        <form method="post" action={`/gates/${encodeURIComponent(g.name)}`} class="card" data-gate={g.name}>
          <Csrf token={props.csrf} />
          <strong>{g.name}</strong>
          <div class="inline">
            <select name="action" aria-label={`action for ${g.name}`}>
              {["reject", "review", "off"].map((a) => (
                <option value={a} selected={g.action === a}>
                  {a}
                </option>
              ))}
            </select>
            <label class="check">
              <input type="checkbox" name="retry" value="1" checked={g.retry} /> retry
            </label>
            <button type="submit">Save</button>
          </div>
        </form>
      ))}
    </>
  );
}

export const SPEC_TEMPLATE = `---
title: Add a dispatch throttle
repo: sandbox
targets: [src/throttle.js]
tests: [test_throttle_backs_off]
stop: Stop after this one test. Do not add more.
---
Describe the change for the agent.
`;

export function DispatchPage(props: {
  csrf: string;
  text: string;
  error?: string;
  fieldErrors?: { field: string; message: string }[];
}) {
  return (
    <form method="post" action="/dispatch">
      <Csrf token={props.csrf} />
      {props.error && (
        <div class="error" role="alert">
          {props.error}
          {props.fieldErrors && props.fieldErrors.length > 0 && (
            <ul>
              {props.fieldErrors.map((e) => (
                <li>
                  <strong>{e.field}</strong>: {e.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <label for="spec">Spec (Markdown with YAML front matter)</label>
      <textarea id="spec" name="spec" spellcheck={false} autocapitalize="off">
        {props.text}
      </textarea>
      <p>
        <button class="primary" type="submit" style="width:100%">
          Dispatch
        </button>
      </p>
    </form>
  );
}

export function ReportPage(props: {
  report: Report | null;
  text: string;
  /** The night's timeline, SVG drawn by the report route, every text in it escaped there. */
  timeline: string | null;
  since: string;
}) {
  const r = props.report;
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const tokens = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));
  return (
    <>
      <form method="get" action="/report" class="inline">
        <div>
          <label for="since">Since</label>
          <select id="since" name="since">
            {[
              ["", "last 24 hours"],
              ["1h", "1 hour"],
              ["12h", "12 hours"],
              ["168h", "7 days"],
            ].map(([v, l]) => (
              <option value={v} selected={props.since === v}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Show</button>
      </form>
      {r && (
        <>
          <div class="card" id="report-totals">
            <div class="title">
              {r.totals.specs} spec{r.totals.specs === 1 ? "" : "s"} · {r.totals.runs} run
              {r.totals.runs === 1 ? "" : "s"} · {pct(r.totals.pass_rate)} passed
            </div>
            <div class="muted">
              {r.totals.passed} passed · {r.totals.rejected} rejected · {r.totals.failed} failed ·{" "}
              <span style="color:var(--ok)">+{r.totals.lines.insertions}</span>{" "}
              <span style="color:var(--bad)">-{r.totals.lines.deletions}</span> ·{" "}
              {tokens(r.totals.input_tokens + r.totals.output_tokens)} tokens · $
              {r.totals.cost_usd.toFixed(2)}
            </div>
            {r.partial && <div class="muted">partial: more runs than one report reads</div>}
            {r.controls && (
              <div class="muted" data-report-backlog={r.controls.review_backlog.holding ? "holding" : "open"}>
                review backlog {r.controls.review_backlog.awaiting_review} of{" "}
                {r.controls.review_backlog.max_awaiting_review || "no limit"}
                {r.controls.review_backlog.holding ? " — holding new claims (review_backlog)" : ""}
              </div>
            )}
            {r.controls && <BudgetBars budget={r.controls.budget} />}
            {r.controls?.budget_holds.map((h) => (
              <div class="muted" data-report-budget-hold={h.provider ?? "fleet"}>
                budget of {h.provider ? `provider ${h.provider}` : "the fleet"} held claims from{" "}
                {h.from.slice(11, 16)} UTC{" "}
                {h.to
                  ? `until ${h.to.slice(11, 16)} UTC (${(h.ended_by ?? "").replace("_", " ")})`
                  : "and still holds"}
              </div>
            ))}
          </div>
          {props.timeline && (
            <figure class="card timeline" id="report-timeline">
              {raw(props.timeline)}
            </figure>
          )}
          {r.specs.length === 0 && <p class="empty">No runs finished in this window.</p>}
          {r.specs.map((s) => (
            <a class="card" href={`/specs/${encodeURIComponent(s.id)}`} data-report-spec={s.id}>
              <div class="row">
                <StatusBadge status={s.status} />
                {s.grade && <span class="badge s-approved">grade {s.grade}</span>}
                <span class="title">{s.title}</span>
              </div>
              <div class="row muted">
                <span>{s.id}</span>
                <span>{s.provider}</span>
                <span>
                  +{s.lines.insertions} -{s.lines.deletions}
                </span>
                <span>
                  {s.runs} run{s.runs === 1 ? "" : "s"}
                </span>
              </div>
              {s.flags.length > 0 && (
                <span class="row">
                  {s.flags.map((f) => (
                    <span class="flag">{f}</span>
                  ))}
                </span>
              )}
            </a>
          ))}
          {r.providers.length > 0 && <h2>Providers</h2>}
          {r.providers.map((p) => (
            <div class="card">
              <strong>{p.name}</strong>
              <div class="muted">
                {p.runs} runs · {pct(p.pass_rate)} passed · {p.tasks_per_hour}/h ·{" "}
                {tokens(p.input_tokens + p.output_tokens)} tokens · ${p.cost_usd.toFixed(2)}
              </div>
              {(Object.keys(p.review_grades ?? {}).length > 0 || p.review_ungraded > 0) && (
                <div class="muted">
                  reviewer grades{" "}
                  {Object.entries(p.review_grades)
                    .map(([g, n]) => `${g}×${n}`)
                    .join(" ")}
                  {p.review_ungraded > 0 ? ` · ${p.review_ungraded} without a grade` : ""} ·{" "}
                  {tokens(p.review_tokens)} tokens · ${p.review_cost_usd.toFixed(2)}
                </div>
              )}
            </div>
          ))}
        </>
      )}
      <details class="card">
        <summary>As text</summary>
        <pre id="report">{props.text}</pre>
      </details>
    </>
  );
}

export function LoginPage(props: { error?: string; next: string }) {
  return (
    <form method="post" action="/login" class="card">
      <p>Enter an operator token once; it is kept in a secure cookie on this device.</p>
      <Notices error={props.error} />
      <input type="hidden" name="next" value={props.next} />
      <label for="token">Operator token</label>
      <input id="token" type="password" name="token" autocomplete="current-password" required />
      <p>
        <button class="primary" type="submit" style="width:100%">
          Log in
        </button>
      </p>
    </form>
  );
}

export function ErrorPage(props: { message: string }) {
  return (
    <div class="error" role="alert">
      {props.message}
    </div>
  );
}
