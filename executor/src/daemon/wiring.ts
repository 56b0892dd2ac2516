// What the daemon plugs into each run: the harness adapters, the prompt and the gates.
import type { ExecutorConfig } from "../config";
import type { ActivityDeps } from "../engine/activities";
import { buildPrompt } from "../prompt";

export async function defaultWiring(
  _config: ExecutorConfig,
): Promise<Pick<ActivityDeps, "harnessFor" | "buildPrompt" | "runGates">> {
  return {
    harnessFor: (name) => {
      throw new Error(`harness ${name}: adapters not available yet`);
    },
    buildPrompt,
  };
}
