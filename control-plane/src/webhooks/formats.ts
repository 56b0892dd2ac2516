// Renders one outbox event for one endpoint: the whole event as JSON (`standard`), a readable
// message for Slack and Discord, or an ntfy push with approve / decline / retry buttons (raise /
// resume for a reached budget).
import type { WebhookEvent, WebhookFormat } from "@mtor/schema/wire";
import type { PhoneAction } from "../actions/links";

export interface OutboundEvent {
  type: WebhookEvent;
  /** Unix ms when the change happened. */
  createdAt: number;
  payload: Record<string, unknown>;
}

export type ActionLinks = Partial<Record<PhoneAction, string>>;

export interface Rendered {
  body: string;
  contentType: string;
  targetUrl: string;
}

/** Which phone actions make sense after an event, judged by the spec's status in its payload. */
export function actionsFor(event: OutboundEvent): PhoneAction[] {
  if (event.type === "budget.reached") return ["raise", "resume"];
  if (!event.type.startsWith("spec.")) return [];
  const status = str(event.payload.status);
  if (status === "awaiting_review") return ["approve", "decline", "retry"];
  if (event.type === "spec.dead") return ["retry"];
  if (status && ["rejected", "dead", "declined", "canceled"].includes(status)) return ["retry"];
  return [];
}

/** `view` is the spec's dashboard page, when the event is about a spec. */
export function render(
  format: WebhookFormat,
  endpointUrl: string,
  event: OutboundEvent,
  links: ActionLinks,
  view?: string,
): Rendered {
  switch (format) {
    case "slack":
      return json(endpointUrl, slack(event, links, view));
    case "discord":
      return json(endpointUrl, discord(event, links, view));
    case "ntfy":
      return ntfy(endpointUrl, event, links, view);
    default:
      return json(endpointUrl, standard(event, links, view));
  }
}

export function standard(event: OutboundEvent, links: ActionLinks, view?: string) {
  const data = {
    ...event.payload,
    ...(Object.keys(links).length ? { actions: links } : {}),
    ...(view ? { url: view } : {}),
  };
  return { type: event.type, timestamp: new Date(event.createdAt).toISOString(), data };
}

const json = (targetUrl: string, value: unknown): Rendered => ({
  body: JSON.stringify(value),
  contentType: "application/json",
  targetUrl,
});

// ---------------------------------------------------------------- readable summaries

const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

interface Flag {
  gate: string;
  action?: string;
  detail?: string;
}
const flagsOf = (v: unknown): Flag[] =>
  Array.isArray(v) ? v.filter((f): f is Flag => typeof f === "object" && f !== null && "gate" in f) : [];

const HEADLINES: Record<WebhookEvent, string> = {
  "spec.verdict": "Verdict",
  "spec.failed": "Run failed",
  "spec.dead": "Spec is dead",
  "spec.stuck": "Spec is stuck",
  "provider.tripped": "Provider breaker opened",
  "monitor.digest": "mtor digest",
  "report.daily": "mtor morning report",
  "run.security": "Security: the origin changed beyond the run's branch",
  "budget.reached": "Budget reached",
};

const usd = (n: number | undefined) => `$${(n ?? 0).toFixed(2)}`;

export interface Summary {
  title: string;
  lines: string[];
  priority: 1 | 2 | 3 | 4 | 5;
  tags: string[];
  color: number;
}

/** The human summary every readable format is built from. */
export function summarize(event: OutboundEvent): Summary {
  const p = event.payload;
  const lines: string[] = [];
  if (event.type.startsWith("spec.")) {
    const status = str(p.status);
    const outcome = str(p.outcome);
    const title = str(p.title) ?? str(p.spec_id) ?? "spec";
    const head = [outcome ?? status, status && outcome && status !== outcome ? `→ ${status}` : undefined]
      .filter(Boolean)
      .join(" ");
    const meta = [
      str(p.spec_id),
      str(p.repo),
      str(p.provider),
      num(p.attempt) !== undefined ? `attempt ${num(p.attempt)}` : undefined,
    ].filter(Boolean);
    if (head) lines.push(head);
    if (meta.length) lines.push(meta.join(" · "));
    const diff = p.diffstat as { files?: number; insertions?: number; deletions?: number } | undefined;
    if (str(p.branch))
      lines.push(
        `branch ${str(p.branch)}${diff ? ` (+${diff.insertions ?? 0} −${diff.deletions ?? 0})` : ""}`,
      );
    for (const f of flagsOf(p.flags).slice(0, 6)) lines.push(`⚑ ${f.gate}${f.detail ? `: ${f.detail}` : ""}`);
    const failure = p.failure as { kind?: string; message?: string } | undefined;
    if (failure?.kind)
      lines.push(`failure ${failure.kind}${failure.message ? `: ${failure.message.slice(0, 200)}` : ""}`);
    if (str(p.reason)) lines.push(str(p.reason)!);
    const bad =
      event.type === "spec.dead" ||
      event.type === "spec.stuck" ||
      outcome === "rejected" ||
      outcome === "failed";
    return {
      title: `${HEADLINES[event.type]}: ${title}`,
      lines,
      priority: event.type === "spec.dead" || event.type === "spec.stuck" ? 4 : 3,
      tags: [outcome === "passed" ? "white_check_mark" : bad ? "x" : "hourglass", event.type.slice(5)],
      color: outcome === "passed" ? 0x2e7d32 : bad ? 0xc62828 : 0x546e7a,
    };
  }
  if (event.type === "run.security") {
    lines.push(
      [
        str(p.spec_id),
        str(p.repo),
        str(p.executor),
        num(p.attempt) !== undefined ? `attempt ${num(p.attempt)}` : undefined,
      ]
        .filter(Boolean)
        .join(" · "),
    );
    for (const f of flagsOf(p.flags).slice(0, 10)) lines.push(`⚑ ${f.detail ?? f.gate}`);
    return {
      title: `${HEADLINES[event.type]}: ${str(p.title) ?? str(p.spec_id) ?? ""}`,
      lines,
      priority: 5,
      tags: ["rotating_light", "lock"],
      color: 0xb71c1c,
    };
  }
  if (event.type === "provider.tripped") {
    lines.push(
      [
        str(p.provider),
        num(p.consecutive_failures) !== undefined
          ? `${num(p.consecutive_failures)} failures in a row`
          : undefined,
      ]
        .filter(Boolean)
        .join(" · "),
    );
    if (str(p.open_until)) lines.push(`open until ${str(p.open_until)}`);
    return {
      title: `${HEADLINES[event.type]}: ${str(p.provider) ?? ""}`,
      lines,
      priority: 4,
      tags: ["rotating_light"],
      color: 0xef6c00,
    };
  }
  if (event.type === "budget.reached") {
    const scope = str(p.provider) ? `provider ${str(p.provider)}` : "the fleet";
    const budget = (num(p.budget_usd) ?? 0) + (num(p.raised_usd) ?? 0);
    lines.push(`${scope} spent ${usd(num(p.spend_usd))} of its ${usd(budget)} budget tonight`);
    lines.push("New runs wait; runs in flight finish.");
    if (str(p.morning)) lines.push(`A raise or a resume lasts until ${str(p.morning)}.`);
    return {
      title: `${HEADLINES[event.type]}: ${scope}`,
      lines,
      priority: 4,
      tags: ["money_with_wings"],
      color: 0xef6c00,
    };
  }
  // monitor.digest and report.daily carry their own text.
  if (str(p.text)) lines.push(str(p.text)!);
  return {
    title: HEADLINES[event.type],
    lines,
    priority: 2,
    tags: [event.type === "report.daily" ? "sunrise" : "memo"],
    color: 0x1565c0,
  };
}

const LABELS: Record<PhoneAction, string> = {
  approve: "Approve",
  decline: "Decline",
  retry: "Retry",
  raise: "Raise",
  resume: "Resume until morning",
};

/** A button's label; "raise" says by how much. */
const labelOf = (a: PhoneAction, event: OutboundEvent) =>
  a === "raise" && num(event.payload.raise_usd) !== undefined
    ? `Raise by ${usd(num(event.payload.raise_usd))}`
    : LABELS[a];

function slack(event: OutboundEvent, links: ActionLinks, view?: string) {
  const s = summarize(event);
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const blocks: unknown[] = [
    {
      type: "section",
      text: { type: "mrkdwn", text: `*${esc(s.title)}*\n${esc(s.lines.join("\n")).slice(0, 2900)}` },
    },
  ];
  const buttons: Record<string, unknown>[] = (Object.keys(links) as PhoneAction[]).map((a) => ({
    type: "button",
    text: { type: "plain_text", text: labelOf(a, event) },
    url: links[a],
    ...(a === "approve" ? { style: "primary" } : a === "decline" ? { style: "danger" } : {}),
  }));
  if (view) buttons.push({ type: "button", text: { type: "plain_text", text: "Open" }, url: view });
  if (buttons.length) blocks.push({ type: "actions", elements: buttons });
  return { text: `${s.title}\n${s.lines.join("\n")}`.slice(0, 3000), blocks };
}

function discord(event: OutboundEvent, links: ActionLinks, view?: string) {
  const s = summarize(event);
  const linkLine = [
    ...(Object.keys(links) as PhoneAction[]).map((a) => `[${labelOf(a, event)}](${links[a]})`),
    ...(view ? [`[Open](${view})`] : []),
  ].join(" · ");
  const description = [...s.lines, linkLine].filter(Boolean).join("\n").slice(0, 4000);
  return {
    content: null,
    embeds: [
      {
        title: s.title.slice(0, 256),
        description,
        color: s.color,
        timestamp: new Date(event.createdAt).toISOString(),
        ...(view ? { url: view } : {}),
      },
    ],
    allowed_mentions: { parse: [] },
  };
}

/**
 * ntfy's JSON publishing API: POST to the server root with the topic in the body, which carries
 * UTF-8 titles that headers could not. The endpoint URL is the topic URL, as ntfy users know it.
 * `http` action buttons POST straight to the action link, so one tap acts.
 */
function ntfy(endpointUrl: string, event: OutboundEvent, links: ActionLinks, view?: string): Rendered {
  const url = new URL(endpointUrl);
  const segments = url.pathname.split("/").filter(Boolean);
  const topic = segments.pop() ?? "mtor";
  const root = new URL(url.toString());
  root.pathname = `/${segments.join("/")}`;
  const s = summarize(event);
  const actions = (Object.keys(links) as PhoneAction[]).slice(0, 3).map((a) => ({
    action: "http",
    label: labelOf(a, event),
    url: links[a],
    method: "POST",
    clear: true,
  }));
  const body = {
    topic,
    title: s.title.slice(0, 250),
    message: s.lines.join("\n").slice(0, 4000) || s.title,
    priority: s.priority,
    tags: s.tags,
    ...(view ? { click: view } : {}),
    ...(actions.length ? { actions } : {}),
  };
  return { body: JSON.stringify(body), contentType: "application/json", targetUrl: root.toString() };
}
