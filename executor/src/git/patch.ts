// A run's patch for review: the unified diff the gates judged, bounded so the verdict carrying it
// stays under the control plane's request body limit.
import { boundPatch, PATCH_MAX_BYTES, type RunPatch } from "@mtor/schema";
import { gitPrefix } from "./exec";

/**
 * `git diff base head`, plain (no colour, no external diff or textconv driver the repository
 * could configure), cut at the last whole line under `maxBytes` of JSON.
 */
export async function branchPatch(
  repoDir: string,
  base: string,
  head: string,
  maxBytes = PATCH_MAX_BYTES,
): Promise<RunPatch> {
  const out = await gitPrefix(
    repoDir,
    ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--end-of-options", base, head],
    maxBytes,
  );
  return boundPatch(out.head.toString("utf8"), out.bytes, out.head.length === out.bytes, maxBytes);
}
