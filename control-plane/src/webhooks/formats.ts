// Renders one outbox event for one endpoint: the whole event as JSON (`standard`), a readable
// message for Slack and Discord, or an ntfy push with approve / decline / retry buttons (raise /
// resume for a reached budget).
import type { WebhookEventPayload } from "@mtor/schema/events";
import type { GateFlag } from "@mtor/schema/gates";
import type { WebhookEvent, WebhookFormat } from "@mtor/schema/wire";
import type { PhoneAction } from "../actions/links";

/** One event as delivered: its type, its typed payload and when the change happened (unix ms). */
export type OutboundEvent = WebhookEventPayload & { createdAt: number };

export type ActionLinks = Partial<Record<PhoneAction, string>>;

export interface Rendered {
  body: string;
  contentType: string;
  targetUrl: string;
}

/** Which phone actions make sense after an event, judged by the spec's status in its payload. */
export function actionsFor(event: OutboundEvent): PhoneAction[] {
  if (event.type === "budget.reached") return ["raise", "resume"];
  if (event.type === "spec.dead") return ["retry"];
  if (event.type !== "spec.verdict" && event.type !== "spec.stuck") return [];
  const status = event.payload.status;
  if (status === "awaiting_review") return ["approve", "decline", "retry"];
  if (["rejected", "dead", "declined", "canceled"].includes(status)) return ["retry"];
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

const usd = (n: number) => `$${n.toFixed(2)}`;

export interface Summary {
  title: string;
  lines: string[];
  priority: 1 | 2 | 3 | 4 | 5;
  tags: string[];
  color: number;
}

const joined = (parts: (string | undefined | false)[], sep = " · ") => parts.filter(Boolean).join(sep);
const flagLine = (f: GateFlag) => `⚑ ${f.gate}${f.detail ? `: ${f.detail}` : ""}`;

/** The human summary every readable format is built from. */
export function summarize(event: OutboundEvent): Summary {
  const lines: string[] = [];
  switch (event.type) {
    case "spec.verdict":
    case "spec.failed":
    case "spec.dead":
    case "spec.stuck": {
      const p = event.payload;
      const status =
        "status" in p
          ? p.status
          : event.type === "spec.failed"
            ? "failed"
            : event.type === "spec.dead"
              ? "dead"
              : undefined;
      const outcome = "outcome" in p ? p.outcome : "failure" in p ? "failed" : undefined;
      const head = joined([outcome ?? status, status && outcome && status !== outcome && `→ ${status}`], " ");
      const meta = joined([p.spec_id, p.repo, "provider" in p && p.provider, `attempt ${p.attempt}`]);
      if (head) lines.push(head);
      if (meta) lines.push(meta);
      if ("branch" in p && p.branch) {
        const d = p.diffstat;
        lines.push(`branch ${p.branch}${d ? ` (+${d.insertions} −${d.deletions})` : ""}`);
      }
      if ("flags" in p) for (const f of p.flags.slice(0, 6)) lines.push(flagLine(f));
      if ("failure" in p) {
        const f = p.failure;
        lines.push(`failure ${f.kind}${f.message ? `: ${f.message.slice(0, 200)}` : ""}`);
      }
      if ("reason" in p && p.reason) lines.push(p.reason);
      const bad =
        event.type === "spec.dead" ||
        event.type === "spec.stuck" ||
        outcome === "rejected" ||
        outcome === "failed";
      return {
        title: `${HEADLINES[event.type]}: ${p.title || p.spec_id}`,
        lines,
        priority: event.type === "spec.dead" || event.type === "spec.stuck" ? 4 : 3,
        tags: [outcome === "passed" ? "white_check_mark" : bad ? "x" : "hourglass", event.type.slice(5)],
        color: outcome === "passed" ? 0x2e7d32 : bad ? 0xc62828 : 0x546e7a,
      };
    }
    case "run.security": {
      const p = event.payload;
      lines.push(joined([p.spec_id, p.repo, p.executor, `attempt ${p.attempt}`]));
      for (const f of p.flags.slice(0, 10)) lines.push(`⚑ ${f.detail || f.gate}`);
      return {
        title: `${HEADLINES[event.type]}: ${p.title || p.spec_id}`,
        lines,
        priority: 5,
        tags: ["rotating_light", "lock"],
        color: 0xb71c1c,
      };
    }
    case "provider.tripped": {
      const p = event.payload;
      lines.push(joined([p.provider, `${p.consecutive_failures} failures in a row`]));
      lines.push(`open until ${p.open_until}`);
      return {
        title: `${HEADLINES[event.type]}: ${p.provider}`,
        lines,
        priority: 4,
        tags: ["rotating_light"],
        color: 0xef6c00,
      };
    }
    case "budget.reached": {
      const p = event.payload;
      const scope = p.provider ? `provider ${p.provider}` : "the fleet";
      lines.push(
        `${scope} spent ${usd(p.spend_usd)} of its ${usd(p.budget_usd + p.raised_usd)} budget tonight`,
      );
      lines.push("New runs wait; runs in flight finish.");
      lines.push(`A raise or a resume lasts until ${p.morning}.`);
      return {
        title: `${HEADLINES[event.type]}: ${scope}`,
        lines,
        priority: 4,
        tags: ["money_with_wings"],
        color: 0xef6c00,
      };
    }
    case "monitor.digest":
    case "report.daily":
      // They carry their own text.
      if (event.payload.text) lines.push(event.payload.text);
      return {
        title: HEADLINES[event.type],
        lines,
        priority: 2,
        tags: [event.type === "report.daily" ? "sunrise" : "memo"],
        color: 0x1565c0,
      };
  }
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
  a === "raise" && event.type === "budget.reached" ? `Raise by ${usd(event.payload.raise_usd)}` : LABELS[a];

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
