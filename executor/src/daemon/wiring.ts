// What the daemon plugs into each run: the sandbox, the harness adapters, the prompt and the gates.

import { GATE_NAMES, type GateFlag, type GateName } from "@mtor/schema";
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
 * The control plane hands back a rejected attempt's flags as `gate: detail` lines; those become
 * the gates' concrete instructions (feedbackFor). Anything else (a reviewer's decline note) is
 * passed on as written.
 */
export function promptFeedback(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const m = /^([a-z_]+): ([\s\S]*)$/.exec(line);
    if (m && (GATE_NAMES as readonly string[]).includes(m[1])) {
      const flag: GateFlag = { gate: m[1] as GateName, action: "reject", detail: m[2] };
      for (const instruction of feedbackFor([flag])) if (!out.includes(instruction)) out.push(instruction);
    } else if (!out.includes(line)) {
      out.push(line);
    }
  }
  return out;
}
