// `mtor gate --repo DIR --base REF --head REF [--spec FILE] [--json] [--run-tests]`: the
// executor's gates, with the default settings, on any repository. Exit 0 passed, 1 rejected,
// 2 usage error.
import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { DEFAULT_GATES, parseSpec } from "@mtor/schema";
import { Command, CommanderError } from "commander";
import { GitError, isRepository, readAt, resolveCommit } from "./git";
import { runGates } from "./index";
import type { GateContext } from "./types";

/** What the command needs from the outside; the operator CLI's `Io` satisfies it. */
export interface GateIo {
  out(text: string): void;
  err(text: string): void;
  /** Set by the command; the process exits with it. */
  exitCode: number;
  /** Relative --repo and --spec paths resolve against this; default process.cwd(). */
  cwd?: string;
}

interface GateOptions {
  repo: string;
  base: string;
  head: string;
  spec?: string;
  json?: boolean;
  runTests?: boolean;
  testCommand?: string;
}

class UsageError extends Error {}

/** The `gate` subcommand, to mount on the `mtor` program with `addCommand`. */
export function gateCommandSpec(io: GateIo): Command {
  return new Command("gate")
    .description("run the verdict gates on a branch of any git repository")
    .requiredOption("--repo <dir>", "the git repository")
    .requiredOption("--base <ref>", "the branch or commit the change started from")
    .requiredOption("--head <ref>", "the branch or commit holding the change")
    .option("--spec <file>", "the spec (Markdown with front matter) for targets, tests and paths")
    .option("--json", "print {outcome, flags, commits, diffstat, patch_id} as JSON")
    .option("--run-tests", "also run the tests_failed gate")
    .option("--test-command <cmd>", "the test command for --run-tests (default: package.json's test script)")
    .action(async (opts: GateOptions) => {
      io.exitCode = await runGateCommand(opts, io);
    });
}

/** Parses argv (after `gate`) and runs it; returns the exit code instead of exiting. */
export async function gateCommand(argv: string[], io: GateIo): Promise<number> {
  const cmd = gateCommandSpec(io);
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  cmd.showHelpAfterError("(run with --help for usage)");
  try {
    await cmd.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      return ["commander.helpDisplayed", "commander.help", "commander.version"].includes(err.code) ? 0 : 2;
    }
    throw err;
  }
  return io.exitCode;
}

async function runGateCommand(opts: GateOptions, io: GateIo): Promise<number> {
  try {
    const ctx = await contextFrom(opts, io.cwd ?? process.cwd());
    const report = await runGates(ctx);
    if (opts.json) {
      io.out(
        JSON.stringify(
          {
            outcome: report.outcome,
            flags: report.flags,
            commits: report.commits,
            diffstat: report.diffstat,
            patch_id: report.patchId ?? null,
          },
          null,
          2,
        ),
      );
    } else {
      io.out(renderReport(report, opts));
    }
    return report.outcome === "passed" ? 0 : 1;
  } catch (err) {
    if (err instanceof UsageError || err instanceof GitError) {
      io.err(`mtor gate: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

async function contextFrom(opts: GateOptions, cwd: string): Promise<GateContext> {
  const repoDir = resolve(cwd, opts.repo);
  if (!(await isRepository(repoDir))) throw new UsageError(`--repo ${opts.repo}: not a git repository`);
  const base = await resolveCommit(repoDir, opts.base);
  if (!base) throw new UsageError(`--base ${opts.base}: no such commit or branch in ${opts.repo}`);
  const head = await resolveCommit(repoDir, opts.head);
  if (!head) throw new UsageError(`--head ${opts.head}: no such commit or branch in ${opts.repo}`);

  let spec: GateContext["spec"] = { targets: [], tests: undefined, paths: undefined, body: "" };
  if (opts.spec) {
    let text: string;
    try {
      text = await readFile(resolve(cwd, opts.spec), "utf8");
    } catch (e) {
      throw new UsageError(`--spec ${opts.spec}: cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
    // A spec checked by hand need not say which repo it is for.
    const repoName = basename(repoDir).replace(/[^A-Za-z0-9._-]/g, "-") || "repo";
    const parsed = parseSpec(text, { repo: repoName });
    if (!parsed.ok) {
      const lines = parsed.errors.map((e) => `  ${e.field}: ${e.message}`).join("\n");
      throw new UsageError(`--spec ${opts.spec} is not a valid spec:\n${lines}`);
    }
    spec = parsed.spec;
  }

  let testCommand = opts.testCommand;
  if (opts.runTests && !testCommand) {
    const pkg = await readAt(repoDir, head, "package.json");
    if (pkg) {
      try {
        const scripts = (JSON.parse(pkg) as { scripts?: Record<string, unknown> }).scripts;
        if (typeof scripts?.test === "string") testCommand = "npm test";
      } catch {
        // not JSON: no test script
      }
    }
    if (!testCommand) {
      throw new UsageError(
        "--run-tests: no test command; pass --test-command or add a test script to package.json",
      );
    }
  }

  return {
    repoDir,
    base: opts.base,
    head: opts.head,
    spec,
    settings: DEFAULT_GATES,
    harnessSucceeded: true,
    runTests: Boolean(opts.runTests),
    testCommand,
  };
}

function renderReport(report: Awaited<ReturnType<typeof runGates>>, opts: GateOptions): string {
  const { diffstat: d } = report;
  const lines = [
    `${report.outcome === "passed" ? "PASSED" : "REJECTED"}  ${opts.head} against ${opts.base}: ${report.commits} commit${report.commits === 1 ? "" : "s"}, ${d.files} file${d.files === 1 ? "" : "s"}, +${d.insertions} −${d.deletions}`,
  ];
  if (report.flags.length === 0) lines.push("  no flags");
  for (const f of report.flags) {
    const mark = f.action === "reject" ? "✗" : "!";
    const [first, ...rest] = f.detail.split("\n");
    lines.push(`  ${mark} ${f.gate} (${f.action}): ${first}`);
    for (const r of rest) lines.push(`      ${r}`);
  }
  return lines.join("\n");
}
