// `mtor dispatch FILE… | -`: send specs to the queue; print each one's id, place in line and
// warnings. With several files each is sent on its own; one refused does not stop the rest.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type DispatchResponse, SPEC_FIELDS } from "@mtor/schema";
import { Unreachable, UsageError } from "../http/client";
import { type ApiContext, apiAction, apiCommand, reportFailure } from "./api-command";
import type { Io } from "./io";

const collect = (value: string, previous: string[]) => [...previous, value];

interface DispatchOptions {
  param: string[];
  idempotencyKey?: string;
}

export function dispatchCommand(io: Io) {
  return apiCommand("dispatch", "dispatch specs (Markdown files, or - for standard input)")
    .argument("<files...>", "spec files, or - to read one from standard input")
    .option(
      "-p, --param <key=value>",
      "a front-matter field given outside the file (repeatable; the file wins)",
      collect,
      [],
    )
    .option("--idempotency-key <key>", "replay the first answer when the same key is sent again within 24 h")
    .action(
      apiAction(io, async (ctx, files: string[], opts: DispatchOptions) => {
        const query = paramQuery(opts.param);
        if (files.includes("-") && files.length > 1)
          throw new UsageError("- (standard input) cannot be combined with files");
        if (opts.idempotencyKey && files.length > 1)
          throw new UsageError("--idempotency-key names one dispatch; give it one file");
        if (files.length === 1) {
          const res = await dispatchOne(ctx, files[0], query, opts.idempotencyKey);
          if (ctx.json) return ctx.printJson(res);
          printResult(ctx, res);
          return;
        }
        // Several files: each is reported on its own, and a refusal does not stop the others.
        const results: ({ file: string } & (
          | DispatchResponse
          | { error: { code: string; message: string } }
        ))[] = [];
        let worst = 0;
        for (const file of files) {
          try {
            const res = await dispatchOne(ctx, file, query);
            results.push({ file, ...res });
            if (!ctx.json) printResult(ctx, res, file);
          } catch (err) {
            if (err instanceof Unreachable) throw err;
            if (!ctx.json) ctx.io.err(`${file}:`);
            const code = reportFailure(ctx.io, err, ctx.json);
            worst = Math.max(worst, code);
            results.push({ file, error: { code: "refused", message: (err as Error).message } });
          }
        }
        if (ctx.json) ctx.printJson(results);
        else ctx.io.err(`${results.filter((r) => "id" in r).length} of ${files.length} dispatched`);
        ctx.io.exitCode = worst;
      }),
    );
}

function paramQuery(params: string[]): Record<string, string> {
  const query: Record<string, string> = {};
  for (const p of params) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param wants key=value, got ${JSON.stringify(p)}`);
    const key = p.slice(0, eq).trim();
    if (!(SPEC_FIELDS as readonly string[]).includes(key)) {
      throw new UsageError(`--param ${key}: unknown field; known fields are ${SPEC_FIELDS.join(", ")}`);
    }
    query[key] = p.slice(eq + 1);
  }
  return query;
}

async function dispatchOne(
  ctx: ApiContext,
  file: string,
  query: Record<string, string>,
  idempotencyKey?: string,
): Promise<DispatchResponse> {
  let text: string;
  if (file === "-") text = await ctx.io.stdin();
  else {
    try {
      text = await readFile(resolve(ctx.io.cwd, file), "utf8");
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  }
  if (text.trim() === "") throw new UsageError(`${file === "-" ? "standard input" : file} is empty`);
  const headers: Record<string, string> = {};
  if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
  return ctx.client.post<DispatchResponse>("/v1/specs", text, { query, headers });
}

function printResult(ctx: ApiContext, res: DispatchResponse, file?: string): void {
  ctx.io.out(
    `${res.id}  ${res.status}  position ${res.position}  ${res.provider}  ${res.title}${file ? `  (${file})` : ""}`,
  );
  for (const w of res.warnings ?? []) ctx.io.err(`warning: ${w}`);
}
