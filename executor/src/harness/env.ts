// The cleared environment every harness runs in: an allowlist, never the
// executor's own environment, so no secret or credential of this box reaches the agent.
import type { HarnessInput } from "./types";

export const DEFAULT_GIT_IDENTITY = { name: "mtor agent", email: "agent@mtor.invalid" };

/**
 * PATH, the per-run HOME, locale, git identity and git switches that keep the agent away
 * from this box's credentials. Harness adapters add their provider and telemetry switches.
 */
export function baseEnv(input: Pick<HarnessInput, "home" | "gitIdentity">): Record<string, string> {
  const id = input.gitIdentity ?? DEFAULT_GIT_IDENTITY;
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: input.home,
    XDG_CONFIG_HOME: `${input.home}/.config`,
    XDG_DATA_HOME: `${input.home}/.local/share`,
    XDG_CACHE_HOME: `${input.home}/.cache`,
    XDG_STATE_HOME: `${input.home}/.local/state`,
    TMPDIR: process.env.TMPDIR ?? "/tmp",
    LANG: "C.UTF-8",
    TERM: "dumb",
    NO_COLOR: "1",
    CI: "1",
    GIT_AUTHOR_NAME: id.name,
    GIT_AUTHOR_EMAIL: id.email,
    GIT_COMMITTER_NAME: id.name,
    GIT_COMMITTER_EMAIL: id.email,
    // No system git config (credential helpers), no prompts, no ssh keys or agent of this box:
    // only the executor pushes.
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_SSH_COMMAND: "ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityFile=/dev/null",
    // Every push URL is rewritten to a scheme git has no helper for, so `git push` fails even
    // for a remote on a local path; fetch is unaffected.
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "url.mtor-push-disabled://.pushInsteadOf",
    GIT_CONFIG_VALUE_0: "",
  };
}

/** Names of the variables a harness got, for logs and docs (values are secret). */
export function envNames(env: Record<string, string>): string[] {
  return Object.keys(env).sort();
}
