// What the daemon plugs into each run: the harness adapters, the prompt and the gates.
import type { ExecutorConfig } from "../config";
import type { ActivityDeps } from "../engine/activities";
import { runGates } from "../gates";
import { getHarness } from "../harness";
import type { Harness } from "../harness/types";
import { buildPreflightPrompt, buildPrompt } from "../prompt";

export type Wiring = Pick<ActivityDeps, "harnessFor" | "buildPrompt" | "buildPreflightPrompt" | "runGates">;

export async function defaultWiring(config: Pick<ExecutorConfig, "harnesses">): Promise<Wiring> {
  const cache = new Map<string, Harness>();
  return {
    harnessFor: (name) => {
      let h = cache.get(name);
      if (!h) {
        h = getHarness(name, { commandHarnesses: config.harnesses });
        cache.set(name, h);
      }
      return h;
    },
    buildPrompt,
    buildPreflightPrompt,
    runGates,
  };
}
