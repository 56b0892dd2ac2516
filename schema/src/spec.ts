// The spec format: Markdown with optional YAML front matter, parsed and validated
// with every field error named, plus the deduplication key.
import { parseDocument } from "yaml";
import { z } from "zod";
import type { GateAction } from "./gates";
import { globProblem } from "./glob";
import { readIntent } from "./intent";

export const SPEC_FIELDS = [
  "title",
  "repo",
  "base",
  "provider",
  "harness",
  "model",
  "targets",
  "tests",
  "stop",
  "paths",
  "timeout",
  "attempts",
  "priority",
  "after",
  "removes",
] as const;
export type SpecField = (typeof SPEC_FIELDS)[number];

export const DEFAULT_TIMEOUT_S = 2 * 60 * 60;
export const DEFAULT_ATTEMPTS = 3;
export const MAX_TIMEOUT_S = 24 * 60 * 60;

/** Parses `2h`, `90m`, `45s`, `1h30m`. Returns seconds, or null when it is not a duration. */
export function parseDuration(value: string): number | null {
  const m = /^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$/i.exec(value);
  if (!m || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return null;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** Formats seconds the way a spec writes them: `2h`, `90m`, `45s`, `1h30m`. */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const out = `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
  return out || "0s";
}

const name = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters")
  .regex(/^[A-Za-z0-9._-]+$/, "may contain only letters, digits, '.', '_' and '-'");
const pathList = z
  .array(
    z.string().trim().min(1, "entries must not be empty").max(500, "entries must be at most 500 characters"),
  )
  .max(200, "must have at most 200 entries");

/** The validated front matter, with defaults applied. */
export const SpecFrontMatter = z.object({
  title: z.string().trim().min(1, "must not be empty").max(300, "must be at most 300 characters"),
  repo: name,
  base: z.string().trim().min(1, "must not be empty").max(200).optional(),
  provider: name.default("any"),
  harness: name.optional(),
  model: z.string().trim().min(1).max(200).optional(),
  targets: pathList.default([]),
  tests: z
    .array(z.string().trim().min(1, "entries must not be empty").max(300))
    .max(100, "must have at most 100 entries")
    .optional(),
  stop: z.string().trim().min(1, "must not be empty").max(2000).optional(),
  paths: pathList
    .superRefine((entries, ctx) => {
      entries.forEach((p, i) => {
        const problem = globProblem(p);
        if (problem)
          ctx.addIssue({
            code: "custom",
            path: [i],
            message: `bad pattern ${JSON.stringify(p)}: ${problem}`,
          });
      });
    })
    .optional(),
  timeout_s: z
    .number()
    .int()
    .min(1, "must be at least 1s")
    .max(MAX_TIMEOUT_S, "must be at most 24h")
    .default(DEFAULT_TIMEOUT_S),
  attempts: z
    .number()
    .int()
    .min(1, "must be at least 1")
    .max(20, "must be at most 20")
    .default(DEFAULT_ATTEMPTS),
  priority: z.number().int().min(-1000).max(1000).default(0),
  after: z
    .array(
      z
        .string()
        .trim()
        .regex(/^[a-z0-9]{4,32}$/, "must be spec ids"),
    )
    .max(50)
    .default([]),
  /** Symbols (`legacy_dispatch`, `Queue.claim`) and paths (`src/old/`) the change may delete or replace. */
  removes: z
    .array(
      z
        .string()
        .trim()
        .min(1, "entries must not be empty")
        .max(300, "entries must be at most 300 characters"),
    )
    .max(200, "must have at most 200 entries")
    .default([]),
});
export type SpecFrontMatter = z.infer<typeof SpecFrontMatter>;

/** A spec as it travels: validated front matter plus the Markdown body. */
export const Spec = SpecFrontMatter.extend({ body: z.string() });
export type Spec = z.infer<typeof Spec>;

export interface FieldError {
  field: string;
  message: string;
}

/**
 * What `spec_lint` found in a valid spec: kept structured on the wire (a dispatch answer's
 * `lint`) so no client has to find it among the warnings' prose.
 */
export const SpecLint = z.object({
  code: z.enum(["no_tests", "no_stop", "replace_not_removed"]),
  /** The front-matter field that would settle it. */
  field: z.enum(["tests", "stop", "removes"]),
  message: z.string(),
  /** For replace_not_removed: the symbol or path the body asks to replace or rewrite. */
  name: z.string().optional(),
});
export type SpecLint = z.infer<typeof SpecLint>;

export type ParseResult =
  | { ok: true; spec: Spec; warnings: string[]; lint: SpecLint[] }
  | { ok: false; errors: FieldError[] };

const FRONT_MATTER = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;
const LIST_FIELDS = new Set<SpecField>(["targets", "tests", "paths", "after", "removes"]);
const INT_FIELDS = new Set<SpecField>(["attempts", "priority"]);

/** Splits a Markdown spec into raw front matter text (or null) and body. */
export function splitFrontMatter(text: string): { yaml: string | null; body: string } {
  const m = FRONT_MATTER.exec(text);
  if (!m) return { yaml: null, body: text.replace(/^\uFEFF/, "") };
  return { yaml: m[1], body: text.slice(m[0].length) };
}

/** Brings a query-string value into the shape the front matter would have. */
function coerceParam(field: SpecField, value: string): unknown {
  if (LIST_FIELDS.has(field)) {
    return value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (INT_FIELDS.has(field) && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return value;
}

/**
 * Parses a spec. `params` are fields given outside the text (the query string of
 * `POST /v1/specs`); front matter wins over them. Every problem is reported with its field.
 */
export function parseSpec(text: string, params: Record<string, string | undefined> = {}): ParseResult {
  const errors: FieldError[] = [];
  const raw: Record<string, unknown> = {};

  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (!(SPEC_FIELDS as readonly string[]).includes(key)) continue;
    raw[key] = coerceParam(key as SpecField, value);
  }

  const { yaml, body } = splitFrontMatter(text);
  if (yaml !== null) {
    const doc = parseDocument(yaml, { uniqueKeys: true, prettyErrors: false });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.linePos?.[0]?.line;
        errors.push({
          field: "front_matter",
          message: `invalid YAML${line ? ` at line ${line}` : ""}: ${e.message.split("\n")[0]}`,
        });
      }
      return { ok: false, errors };
    }
    let data: unknown;
    try {
      data = doc.toJSON();
    } catch (err) {
      // The yaml library refuses, by throwing, what parses but cannot be built safely: an
      // alias bomb ("Excessive alias count …"), an alias to nowhere.
      return {
        ok: false,
        errors: [
          { field: "front_matter", message: `invalid YAML: ${(err as Error).message.split("\n")[0]}` },
        ],
      };
    }
    if (data !== null && data !== undefined) {
      if (typeof data !== "object" || Array.isArray(data)) {
        return {
          ok: false,
          errors: [{ field: "front_matter", message: "must be a YAML mapping of fields" }],
        };
      }
      for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
        if (!(SPEC_FIELDS as readonly string[]).includes(key)) {
          errors.push({ field: key, message: `unknown field; known fields are ${SPEC_FIELDS.join(", ")}` });
          continue;
        }
        if (value !== null && value !== undefined) raw[key] = value;
      }
    }
  }

  // Without a title, the body's first non-empty line is the title.
  let bodyText = body;
  if (raw.title === undefined) {
    const lines = body.split(/\r?\n/);
    const idx = lines.findIndex((l) => l.trim() !== "");
    if (idx >= 0) {
      raw.title = lines[idx].replace(/^#+\s*/, "").trim();
      if (yaml === null) bodyText = lines.slice(idx + 1).join("\n");
    }
  }

  // Scalars written as a single string where a list is expected are accepted as one entry.
  for (const f of LIST_FIELDS) {
    if (typeof raw[f] === "string") raw[f] = [raw[f]];
  }

  // Durations are written with units; the wire carries seconds.
  if (raw.timeout !== undefined) {
    const t = raw.timeout;
    const seconds = typeof t === "string" ? parseDuration(t) : null;
    if (seconds === null) {
      errors.push({
        field: "timeout",
        message: `bad duration ${JSON.stringify(t)}: write a number with a unit s, m or h, e.g. 90m or 2h`,
      });
    } else {
      raw.timeout_s = seconds;
    }
    delete raw.timeout;
  }

  const candidate = { ...raw };
  const result = SpecFrontMatter.safeParse(candidate);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "spec";
      const mapped = field === "timeout_s" ? "timeout" : field.split(".")[0];
      const message =
        issue.code === "invalid_type" &&
        (candidate as Record<string, unknown>)[field.split(".")[0]] === undefined
          ? "is required"
          : issue.message;
      errors.push({ field: field.includes(".") ? field : mapped, message });
    }
  }
  if (errors.length > 0) return { ok: false, errors: dedupeErrors(errors) };
  if (!result.success) return { ok: false, errors: [{ field: "spec", message: "invalid" }] };

  const spec = { ...result.data, body: bodyText.trim() };
  const lint = lintSpec(spec);
  return { ok: true, spec, warnings: lint.map(lintWarning), lint };
}

/** A lint finding as the warning text dispatch answers with. */
export function lintWarning(l: SpecLint): string {
  return `spec_lint: ${l.message}`;
}

/**
 * The `spec_lint` checks: no `tests`, no `stop`, and a body that asks to replace or rewrite a
 * name `removes` does not list (the destruction gate would reject the change it asks for).
 */
export function lintSpec(spec: Pick<Spec, "tests" | "stop" | "body" | "removes">): SpecLint[] {
  const lint: SpecLint[] = [];
  if (!spec.tests || spec.tests.length === 0) {
    lint.push({
      code: "no_tests",
      field: "tests",
      message: "no `tests` named; the agent may loop on adding tests",
    });
  }
  if (!spec.stop) {
    lint.push({
      code: "no_stop",
      field: "stop",
      message: "no `stop` condition; the agent does not know when it is done",
    });
  }
  const listed = new Set(spec.removes);
  for (const m of readIntent(spec.body).mentions) {
    if (m.kind !== "remove" || (m.verb !== "replace" && m.verb !== "rewrite") || listed.has(m.name)) continue;
    lint.push({
      code: "replace_not_removed",
      field: "removes",
      name: m.name,
      message: `the body asks to ${m.verb} \`${m.name}\` but \`removes\` does not list it; add it to \`removes\` if it may be deleted or gutted`,
    });
  }
  return lint;
}

function dedupeErrors(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.field}\0${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Collapses whitespace so that re-indenting or re-wrapping a spec does not dodge dedup. */
export function normalizeBody(body: string): string {
  return body.replace(/\r\n?/g, "\n").replace(/\s+/g, " ").trim();
}

/** The dedup key: a hash of (repo, base, normalized body, targets, tests). */
export async function dedupKey(
  spec: Pick<Spec, "repo" | "base" | "body" | "targets" | "tests">,
): Promise<string> {
  const material = JSON.stringify([
    spec.repo,
    spec.base ?? "",
    normalizeBody(spec.body),
    [...spec.targets].sort(),
    [...(spec.tests ?? [])].sort(),
  ]);
  return sha256Hex(material);
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Renders a spec back to Markdown with front matter (for the CLI and for re-dispatch). */
export function renderSpec(spec: Spec): string {
  const lines: string[] = ["---"];
  const put = (k: string, v: unknown) => {
    if (v === undefined || (Array.isArray(v) && v.length === 0 && k !== "tests")) return;
    lines.push(`${k}: ${JSON.stringify(v)}`);
  };
  put("title", spec.title);
  put("repo", spec.repo);
  put("base", spec.base);
  put("provider", spec.provider);
  put("harness", spec.harness);
  put("model", spec.model);
  put("targets", spec.targets);
  put("tests", spec.tests);
  put("stop", spec.stop);
  put("paths", spec.paths);
  put("timeout", formatDuration(spec.timeout_s));
  put("attempts", spec.attempts);
  put("priority", spec.priority);
  put("after", spec.after);
  put("removes", spec.removes);
  lines.push("---", spec.body);
  return `${lines.join("\n")}\n`;
}

/**
 * What the spec_lint gate, set to `action`, makes of a parsed spec's lint: the warnings the
 * dispatch answers with, and the field errors that refuse it when the gate rejects.
 */
export function specLint(
  lint: readonly SpecLint[],
  action: GateAction,
): { lint: SpecLint[]; warnings: string[]; errors: FieldError[]; reasons: string[] } {
  if (action === "off") return { lint: [], warnings: [], errors: [], reasons: [] };
  const warnings = lint.map(lintWarning);
  if (action !== "reject") return { lint: [...lint], warnings, errors: [], reasons: [] };
  const errors = lint.map((l) => ({
    field: l.field,
    message:
      l.code === "replace_not_removed"
        ? `must list \`${l.name}\` while the spec_lint gate rejects: ${l.message}`
        : "is required while the spec_lint gate rejects",
  }));
  return { lint: [...lint], warnings, errors, reasons: lint.map((l) => l.message) };
}
