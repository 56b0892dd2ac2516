// One corpus case: a change made on the run's branch, and the gate that must catch it (or none,
// for a good change that must pass).
import type { GateName } from "@mtor/schema";
import type { GateContext } from "../../src/gates";
import type { TestRepo } from "./repo";

export type CaseSpec = GateContext["spec"];

export interface Case {
  name: string;
  /** The gate that must catch it; undefined for a good change that must pass. */
  expect?: GateName;
  spec?: Partial<CaseSpec>;
  /** Makes the change on the run's branch (checked out from main); may tweak the context. */
  build(repo: TestRepo): Promise<Partial<GateContext> | undefined>;
}

export const BRANCH = "mtor/k3f9x2ab-1";

/** Commits files on main and restarts the run's branch from there. */
export async function onMain(r: TestRepo, files: Record<string, string | null>): Promise<void> {
  await r.checkout("main");
  await r.commit("base", files);
  await r.git("branch", "-f", BRANCH, "main");
  await r.checkout(BRANCH);
}
