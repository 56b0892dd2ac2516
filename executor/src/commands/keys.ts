// `mtor keys add ID` / `mtor keys remove ID`: the next value of the control plane's EXECUTOR_KEYS.
// Cloudflare secrets cannot be read back, so the current value is given (--current or the
// EXECUTOR_KEYS variable) and the whole new value is printed, ready for `wrangler secret put`.
import { randomBytes } from "node:crypto";
import { parseExecutorKeys } from "@mtor/schema";
import { Command } from "commander";
import { UsageError } from "../http/client";
import type { Io } from "./io";

const KEY_ID = /^[A-Za-z0-9._-]{1,100}$/;

function currentKeys(io: Io, current: string | undefined): Map<string, string> {
  const value = current ?? io.env.EXECUTOR_KEYS ?? "";
  const keys = parseExecutorKeys(value);
  const entries = value.split(",").filter((e) => e.trim() !== "");
  if (entries.length !== keys.size)
    throw new UsageError("the current EXECUTOR_KEYS is not a comma-separated list of keyid:secret");
  return keys;
}

const joined = (keys: Map<string, string>) => [...keys].map(([id, secret]) => `${id}:${secret}`).join(",");

export function keysCommand(io: Io) {
  const current = "the EXECUTOR_KEYS value set last (secrets cannot be read back; default: $EXECUTOR_KEYS)";
  const keys = new Command("keys").description(
    "make the next EXECUTOR_KEYS value: add a key for an executor, or remove one",
  );
  keys
    .command("add")
    .description("generate a secret for key ID; print the new EXECUTOR_KEYS on stdout, the secret on stderr")
    .argument("<id>", "the key id: the executor config's key_id")
    .option("--current <value>", current)
    .action((id: string, opts: { current?: string }) => {
      if (!KEY_ID.test(id)) throw new UsageError(`key id ${JSON.stringify(id)}: letters, digits, . _ - only`);
      const keys = currentKeys(io, opts.current);
      if (keys.has(id))
        throw new UsageError(`key id ${id} is already in EXECUTOR_KEYS; remove it first or pick another id`);
      const secret = randomBytes(32).toString("base64url");
      keys.set(id, secret);
      io.out(joined(keys));
      io.err(`key ${id}: put this line in the executor's /etc/mtor/executor.env (key_id = "${id}"):`);
      io.err(`MTOR_EXECUTOR_SECRET=${secret}`);
      io.err(
        "then give the control plane the new EXECUTOR_KEYS (standard output): | npx wrangler secret put EXECUTOR_KEYS --env production",
      );
      io.err("Keep the EXECUTOR_KEYS value somewhere safe: the next `mtor keys` needs it.");
    });
  keys
    .command("remove")
    .description("print EXECUTOR_KEYS without key ID (after every executor moved off it)")
    .argument("<id>", "the key id to drop")
    .option("--current <value>", current)
    .action((id: string, opts: { current?: string }) => {
      const keys = currentKeys(io, opts.current);
      if (!keys.delete(id)) throw new UsageError(`key id ${id} is not in EXECUTOR_KEYS`);
      if (keys.size === 0)
        throw new UsageError(`removing ${id} would leave no key: every executor would be refused`);
      io.out(joined(keys));
    });
  return keys;
}
