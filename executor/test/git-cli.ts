// The git the tests run themselves (never the executor's): the caller's environment plus a fixed
// identity, so commits work on a box with no git identity configured.
import { execFileSync } from "node:child_process";

export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "e2e",
      GIT_AUTHOR_EMAIL: "e2e@mtor.invalid",
      GIT_COMMITTER_NAME: "e2e",
      GIT_COMMITTER_EMAIL: "e2e@mtor.invalid",
    },
  }).trim();
}
