// What the daemon plugs into each run: the sandbox, the harness adapters, the prompt and the gates.

import type { ClaimedRun } from "@mtor/schema";
import type { ExecutorConfig } from "../config";
import type { ActivityDeps } from "../engine/activities";
import { feedbackFor, runGates } from "../gates";
import { getHarness } from "../harness";
import type { Harness } from "../harness/types";
import { buildPreflightPrompt, buildPrompt } from "../prompt";
import { checkSandbox, createSandbox } from "../sandbox";

export type Wiring = Pick<
  ActivityDeps,
  "sandbox" | "harnessFor" | "buildPrompt" | "buildPreflightPrompt" | "runGates"
>;

/**
 * Throws SandboxUnavailable (naming the fix) when the configured sandbox cannot start here, so
 * the executor refuses to start rather than run a harness unconfined.
 */
export async function defaultWiring(
  config: Pick<ExecutorConfig, "harnesses" | "sandbox" | "workdir">,
  log: (line: string) => void = () => {},
): Promise<Wiring> {
  const sandbox = createSandbox(config.sandbox, { hidden: [config.workdir] });
  const costMs = await checkSandbox(sandbox);
  if (sandbox.kind === "none")
    log('WARNING: sandbox = "none": harnesses and test commands run unconfined as this executor\'s user');
  else log(`sandbox ${sandbox.kind}: starts in ${costMs.toFixed(0)} ms`);
  const cache = new Map<string, Harness>();
  return {
    sandbox,
    harnessFor: (name) => {
      let h = cache.get(name);
      if (!h) {
        h = getHarness(name, { commandHarnesses: config.harnesses });
        cache.set(name, h);
      }
      return h;
    },
    buildPrompt: (spec, feedback) => buildPrompt(spec, promptFeedback(feedback)),
    buildPreflightPrompt,
    runGates,
  };
}

/**
 * The next attempt's feedback as prompt lines: the gates' concrete instructions, written from
 * each flag's facts (feedbackFor), then people's notes (a decline note) as written.
 */
export function promptFeedback(run: Pick<ClaimedRun, "feedback" | "feedback_flags">): string[] {
  const out = feedbackFor(run.feedback_flags ?? []);
  for (const note of run.feedback) if (!out.includes(note)) out.push(note);
  return out;
}
