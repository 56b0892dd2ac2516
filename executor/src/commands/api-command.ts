// The shape every operator command shares: --url/--token/--json, one client, and one place that
// turns failures into a message and an exit code (0 ok, 1 refused, 2 usage, 3 unreachable).
import { Command } from "commander";
import { ApiRefused, EXIT, OperatorClient, Unreachable, UsageError } from "../http/client";
import { resolveSettings } from "../http/settings";
import type { Io } from "./io";

export interface ApiOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

export interface ApiContext {
  client: OperatorClient;
  json: boolean;
  io: Io;
  /** Prints a value as JSON (for --json). */
  printJson(value: unknown): void;
}

/** A command that talks to the operator API. */
export function apiCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option("--url <url>", "control plane URL (env MTOR_URL, config file, default http://127.0.0.1:8787)")
    .option("--token <token>", "operator token (env MTOR_TOKEN, config file)")
    .option("--json", "print JSON for machines instead of a table");
}

/** Wraps a command's action: builds the client, maps every failure to a message and exit code. */
export function apiAction<A extends unknown[]>(
  io: Io,
  handler: (ctx: ApiContext, ...args: A) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const opts = cmd.opts<ApiOptions>();
    const json = Boolean(opts.json);
    try {
      const settings = resolveSettings({ url: opts.url, token: opts.token }, io.env);
      if (!settings.token) {
        throw new UsageError(
          "no operator token: pass --token, set MTOR_TOKEN, or run `mtor up` (it writes ~/.config/mtor/config.toml)",
        );
      }
      const ctx: ApiContext = {
        client: new OperatorClient(settings),
        json,
        io,
        printJson: (v) => io.out(JSON.stringify(v, null, 2)),
      };
      await handler(ctx, ...(args.slice(0, -1) as A));
    } catch (err) {
      io.exitCode = reportFailure(io, err, json);
    }
  };
}

/** Prints a failure the way a person (or with --json, a machine) can act on it. */
export function reportFailure(io: Io, err: unknown, json: boolean): number {
  if (err instanceof ApiRefused) {
    if (json)
      io.err(JSON.stringify({ error: { code: err.code, message: err.message, details: err.details } }));
    else {
      const lines = detailLines(err.details);
      // The server's message may already list the field errors; print them once, one a line.
      const joined = lines.join("; ");
      const message =
        lines.length > 0 && err.message.endsWith(joined)
          ? err.message.slice(0, -joined.length).replace(/[:\s]+$/, "")
          : err.message;
      io.err(`mtor: ${message} (${err.status} ${err.code})`);
      for (const line of lines) io.err(`  ${line}`);
    }
    return EXIT.refused;
  }
  if (err instanceof Unreachable) {
    io.err(
      json
        ? JSON.stringify({ error: { code: "unreachable", message: err.message } })
        : `mtor: ${err.message}`,
    );
    return EXIT.unreachable;
  }
  if (err instanceof UsageError) {
    io.err(
      json ? JSON.stringify({ error: { code: "usage", message: err.message } }) : `mtor: ${err.message}`,
    );
    return EXIT.usage;
  }
  const message = (err as Error)?.message ?? String(err);
  io.err(json ? JSON.stringify({ error: { code: "internal", message } }) : `mtor: ${message}`);
  return EXIT.refused;
}

/** Field errors and other details as readable lines: `repo: is required`. */
export function detailLines(details: unknown): string[] {
  if (details === undefined || details === null) return [];
  const list = Array.isArray(details)
    ? details
    : typeof details === "object" && Array.isArray((details as { errors?: unknown }).errors)
      ? (details as { errors: unknown[] }).errors
      : typeof details === "object" && Array.isArray((details as { fields?: unknown }).fields)
        ? (details as { fields: unknown[] }).fields
        : null;
  if (list) {
    return list.map((e) => {
      const f = e as { field?: unknown; message?: unknown };
      return typeof f?.field === "string" ? `${f.field}: ${String(f.message ?? "")}` : JSON.stringify(e);
    });
  }
  if (typeof details === "object") {
    return Object.entries(details as Record<string, unknown>).map(
      ([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`,
    );
  }
  return [String(details)];
}

/** Parses an integer option or fails as a usage error. */
export function intOption(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new UsageError(`${name} must be a whole number ≥ ${min}, not ${JSON.stringify(value)}`);
  return Number(value);
}
