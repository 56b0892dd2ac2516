// Runs the mtor CLI in-process (same commands, same exit codes as the binary) and starts a local
// control plane for it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { type Io, operatorCommands, runProgram } from "../../src/commands/index";
import { type LocalControlPlane, startControlPlane } from "../../src/local/control-plane";

export const TOKENS = { admin: "cli-admin-token", read: "cli-read-token" };
export const EXECUTOR_KEY = { id: "cli", secret: "cli-executor-secret" };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  signal?: AbortSignal;
  /** Stdout is a terminal (styled output allowed). */
  tty?: boolean;
  /** Called with each stdout chunk (for --watch). */
  onOut?: (text: string) => void;
}

export async function mtor(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    out: (t) => {
      const line = t.endsWith("\n") ? t : `${t}\n`;
      stdout += line;
      opts.onOut?.(line);
    },
    outStyled: (t) => {
      stdout += t.endsWith("\n") ? t : `${t}\n`;
    },
    err: (t) => {
      stderr += t.endsWith("\n") ? t : `${t}\n`;
    },
    stdin: async () => opts.stdin ?? "",
    env: opts.env ?? {},
    cwd: process.cwd(),
    width: 200,
    isTTY: opts.tty ?? false,
    exitCode: 0,
    signal: opts.signal ?? new AbortController().signal,
  };
  const program = new Command("mtor");
  for (const c of operatorCommands(io)) program.addCommand(c);
  const code = await runProgram(program, args, io);
  return { code, stdout, stderr };
}

export async function startTestControlPlane(): Promise<{ cp: LocalControlPlane; home: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "mtor-cli-test-"));
  const cp = await startControlPlane({
    persistDir: join(dir, "state"),
    vars: {
      OPERATOR_TOKENS: `admin:${TOKENS.admin}:admin,reader:${TOKENS.read}:read`,
      EXECUTOR_KEYS: `${EXECUTOR_KEY.id}:${EXECUTOR_KEY.secret}`,
      ACTION_SECRET: "cli-action-secret",
      ALLOW_PRIVATE_WEBHOOKS: "true",
    },
  });
  return { cp, home: join(dir, "home"), dir };
}
