// `mtor dispatch FILE|-`: send a spec to the queue; print its id, place in line and warnings.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type DispatchResponse, SPEC_FIELDS } from "@mtor/schema";
import { UsageError } from "../http/client";
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";

const collect = (value: string, previous: string[]) => [...previous, value];

export function dispatchCommand(io: Io) {
  return apiCommand("dispatch", "dispatch a spec (a Markdown file, or - for standard input)")
    .argument("<file>", "spec file, or - to read standard input")
    .option(
      "-p, --param <key=value>",
      "a front-matter field given outside the file (repeatable; the file wins)",
      collect,
      [],
    )
    .option("--idempotency-key <key>", "replay the first answer when the same key is sent again within 24 h")
    .action(
      apiAction(io, async (ctx, file: string, opts: { param: string[]; idempotencyKey?: string }) => {
        const query: Record<string, string> = {};
        for (const p of opts.param) {
          const eq = p.indexOf("=");
          if (eq <= 0) throw new UsageError(`--param wants key=value, got ${JSON.stringify(p)}`);
          const key = p.slice(0, eq).trim();
          if (!(SPEC_FIELDS as readonly string[]).includes(key)) {
            throw new UsageError(`--param ${key}: unknown field; known fields are ${SPEC_FIELDS.join(", ")}`);
          }
          query[key] = p.slice(eq + 1);
        }
        let text: string;
        if (file === "-") text = await io.stdin();
        else {
          try {
            text = await readFile(resolve(io.cwd, file), "utf8");
          } catch (err) {
            throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
          }
        }
        if (text.trim() === "") throw new UsageError(`${file === "-" ? "standard input" : file} is empty`);

        const headers: Record<string, string> = {};
        if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
        const res = await ctx.client.post<DispatchResponse>("/v1/specs", text, { query, headers });
        if (ctx.json) return ctx.printJson(res);
        ctx.io.out(`${res.id}  ${res.status}  position ${res.position}  ${res.provider}  ${res.title}`);
        for (const w of res.warnings ?? []) ctx.io.err(`warning: ${w}`);
      }),
    );
}
