// `mtor token [--role read]`: the local stack's operator tokens, from its secrets file (created
// when missing), for curl, a phone or the dashboard.
import { resolve } from "node:path";
import { Command } from "commander";
import { UsageError } from "../http/client";
import { ensureSecrets } from "../up/state";
import type { Io } from "./io";

export function tokenCommand(io: Io) {
  return new Command("token")
    .description("print an operator token of the local stack (npm start): admin, or read-only")
    .option("--role <role>", "admin (what npm start prints) or read (may only look)", "admin")
    .option("--state-dir <dir>", "the local stack's state directory", ".mtor")
    .action((opts: { role: string; stateDir: string }) => {
      if (opts.role !== "admin" && opts.role !== "read")
        throw new UsageError(`--role must be admin or read, not ${JSON.stringify(opts.role)}`);
      const secrets = ensureSecrets(resolve(io.cwd, opts.stateDir));
      const key = opts.role === "admin" ? "operatorToken" : "readToken";
      io.out(secrets[key]);
      if (secrets.added.includes(key))
        io.err("mtor token: new token; a running `npm start` learns it when it is restarted");
    });
}
