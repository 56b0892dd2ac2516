// The sandbox a harness and the repo's test command run in: bubblewrap with its own PID, IPC and
// UTS namespaces, a read-only system, only the run's workspace and HOME writable, a private /tmp,
// no capabilities, and nothing of the executor's (workdir, mirror, spool, config, keys, ~/.ssh,
// other runs). When the command it runs ends or is killed, everything it started dies with it.
import { execFile } from "node:child_process";
import { accessSync, constants, realpathSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, sep } from "node:path";

export const SANDBOX_KINDS = ["bwrap", "none"] as const;
export type SandboxKind = (typeof SANDBOX_KINDS)[number];

/** The directories one run may write: its workspace and its HOME. */
export interface SandboxPlace {
  workspace: string;
  home: string;
}

export interface SandboxCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface Sandbox {
  readonly kind: SandboxKind;
  /** The bwrap binary, an absolute path when it was found on the executor's PATH. */
  readonly bin?: string;
  /** The command as it must be spawned so that it runs inside the run's sandbox. */
  wrap(cmd: SandboxCommand, place: SandboxPlace): SandboxCommand;
}

export interface BwrapOptions {
  /** The bwrap binary. Default `bwrap` on PATH. */
  bin?: string;
  /** Extra paths the sandbox sees read-only (the harnesses' node_modules are added by default). */
  readOnly?: string[];
  /** Paths that must stay invisible even when a read-only path contains them (the workdir). */
  hidden?: string[];
}

/** The system the sandbox sees read-only: programs and libraries, and the few files of /etc they read. */
const SYSTEM = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
const ETC = [
  "passwd",
  "group",
  "hosts",
  "host.conf",
  "resolv.conf",
  "nsswitch.conf",
  "gai.conf",
  "localtime",
  "timezone",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "alternatives",
  "ssl/certs",
  "ca-certificates",
  "ca-certificates.conf",
  "os-release",
  "mime.types",
  "protocols",
  "services",
];

const requireHere = createRequire(import.meta.url);

/** The node_modules directories the built-in harnesses' CLIs live in, found the way bin.ts finds them. */
export function harnessModules(): string[] {
  const out = new Set<string>();
  for (const pkg of ["@anthropic-ai/claude-code", "opencode-ai"]) {
    try {
      const manifest = realpathSync(requireHere.resolve(`${pkg}/package.json`));
      const at = manifest.lastIndexOf(`${sep}node_modules${sep}`);
      if (at >= 0) out.add(manifest.slice(0, at + "/node_modules".length));
    } catch {
      // not installed: the harness is looked up on PATH, which the system paths cover
    }
  }
  return [...out];
}

/** Where this Node is installed, when that is not under /usr (nvm, /opt/node…): the harnesses run on it. */
function nodePrefix(): string[] {
  const prefix = dirname(dirname(realpathSync(process.execPath)));
  return SYSTEM.some((p) => inside(prefix, p)) ? [] : [prefix];
}

/** The absolute path of `name` on the executor's PATH, or `name` itself when it is not there. */
function onPath(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return name;
}

const inside = (path: string, dir: string) =>
  path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/** Builds bwrap's argument list for one run (exported for tests and docs). */
export function bwrapArgs(place: SandboxPlace, cwd: string, opts: BwrapOptions = {}): string[] {
  const args = [
    "--die-with-parent",
    "--new-session",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    // A user namespace mapping the executor's own ids, with every capability dropped and no
    // nested namespaces: even when the executor runs as root, the sandbox cannot mount, mknod or
    // regain capabilities through a setuid program.
    "--unshare-user",
    "--uid",
    String(process.getuid?.() ?? 0),
    "--gid",
    String(process.getgid?.() ?? 0),
    "--disable-userns",
    "--cap-drop",
    "ALL",
  ];
  // The private /proc, /dev and /tmp come first: a later mount hides what an earlier one put
  // below it, and a checkout under /tmp (a CI clone, a test's temp dir) must stay visible.
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
  for (const p of SYSTEM) args.push("--ro-bind-try", p, p);
  for (const f of ETC) args.push("--ro-bind-try", `/etc/${f}`, `/etc/${f}`);
  const readOnly = [...harnessModules(), ...nodePrefix(), ...(opts.readOnly ?? [])];
  for (const p of readOnly) args.push("--ro-bind-try", p, p);
  // A hidden path inside something visible is covered by an empty tmpfs before the run's own
  // directories are bound on top.
  for (const h of opts.hidden ?? []) {
    if ([...SYSTEM, ...readOnly].some((r) => inside(h, r))) args.push("--tmpfs", h);
  }
  args.push("--bind", place.workspace, place.workspace, "--bind", place.home, place.home);
  // The sandbox's own root (where the mount points above were made) is read-only too.
  args.push("--remount-ro", "/", "--chdir", cwd);
  return args;
}

export function createSandbox(kind: SandboxKind, opts: BwrapOptions = {}): Sandbox {
  if (kind === "none") return { kind, wrap: (cmd) => cmd };
  // Found once on the executor's own PATH, so the check at start and every run use the same binary.
  const bin = opts.bin ?? onPath("bwrap");
  return {
    kind,
    bin,
    wrap(cmd, place) {
      return {
        command: bin,
        args: [...bwrapArgs(place, cmd.cwd, opts), "--", cmd.command, ...cmd.args],
        // The private /tmp is the only temporary directory inside.
        env: { ...cmd.env, TMPDIR: "/tmp" },
        cwd: cmd.cwd,
      };
    },
  };
}

/** The sandbox cannot be set up on this box; the message names the fix. */
export class SandboxUnavailable extends Error {
  override name = "SandboxUnavailable";
}

/**
 * Starts `true` in the sandbox once, so a box that cannot run it is refused at start rather than
 * at its first run. Returns what one start costs (ms).
 */
export async function checkSandbox(sandbox: Sandbox): Promise<number> {
  if (sandbox.kind === "none") return 0;
  const scratch = await mkdtemp(join(tmpdir(), "mtor-sandbox-check-"));
  try {
    const place = { workspace: scratch, home: scratch };
    const cmd = sandbox.wrap(
      { command: "true", args: [], env: { PATH: "/usr/bin:/bin" }, cwd: scratch },
      place,
    );
    const started = performance.now();
    const failure = !sandbox.bin?.includes("/")
      ? `${sandbox.bin ?? "bwrap"} is not on PATH`
      : await new Promise<string | null>((resolve) => {
          execFile(
            cmd.command,
            cmd.args,
            { env: cmd.env, cwd: cmd.cwd, timeout: 10_000 },
            (err, _out, stderr) => resolve(err ? String(stderr).trim() || err.message : null),
          );
        });
    if (failure !== null) {
      throw new SandboxUnavailable(
        `sandbox = "bwrap" cannot start (${failure}). Install bubblewrap (Debian: apt-get install bubblewrap) and allow user namespaces (sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0; under Docker, run the container with --security-opt seccomp=unconfined --security-opt systempaths=unconfined). To run harnesses without a sandbox, set sandbox = "none" in the executor's config (or MTOR_SANDBOX=none, e.g. for \`npm start\` on macOS): see docs/security.md for what that gives up.`,
      );
    }
    return performance.now() - started;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
