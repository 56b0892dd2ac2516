// What an operator command needs from the outside world, injected so tests run the CLI in-process.
import type { Env } from "../http/settings";

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Reads all of standard input (for `mtor dispatch -`). */
  stdin(): Promise<string>;
  env: Env;
  cwd: string;
  /** Terminal width for tables; 120 when not a terminal. */
  width: number;
  isTTY: boolean;
  /** Set by a command that fails; the process exits with it. */
  exitCode: number;
  /** Aborted on Ctrl-C, so `--watch` loops end cleanly. */
  signal: AbortSignal;
}

export function processIo(): Io {
  const controller = new AbortController();
  return {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : `${t}\n`),
    stdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    env: process.env,
    cwd: process.cwd(),
    width: process.stdout.isTTY ? process.stdout.columns : 120,
    isTTY: Boolean(process.stdout.isTTY),
    exitCode: 0,
    signal: controller.signal,
  };
}
