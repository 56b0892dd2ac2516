// What an operator command needs from the outside world, injected so tests run the CLI in-process.
import type { Env } from "../http/settings";
import { CLEAR_SCREEN, plainText } from "./terminal";

export interface Io {
  /** Prints text; on a real terminal with every control sequence in it removed. */
  out(text: string): void;
  err(text: string): void;
  /**
   * Prints text the CLI styled itself for a terminal: every part that came from elsewhere already
   * went through `plainText`, so the only escapes left are the CLI's own colours.
   */
  outStyled(text: string): void;
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
    out: (t) => {
      // The screen clear of `list --watch` is the CLI's own; everything else may hold model text.
      const text = t === CLEAR_SCREEN ? t : plainText(t);
      process.stdout.write(text.endsWith("\n") || t === CLEAR_SCREEN ? text : `${text}\n`);
    },
    outStyled: (t) => {
      process.stdout.write(t.endsWith("\n") ? t : `${t}\n`);
    },
    err: (t) => {
      const text = plainText(t);
      process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
    },
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
