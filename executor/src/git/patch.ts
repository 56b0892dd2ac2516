// A run's patch for review: the unified diff the gates judged, bounded so the verdict carrying it
// stays under the control plane's request body limit.
import { boundPatch, PATCH_MAX_BYTES, type RunPatch, type VerdictRequest } from "@mtor/schema";
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

/** The control plane's request body limit (every route), less room for the JSON around a verdict. */
const VERDICT_MAX_BYTES = 256 * 1024 - 1024;

/**
 * The verdict with its patch cut further when the rest of it (flags, review findings, log tail)
 * leaves too little room: a verdict over the body limit would be refused whole.
 */
export function fitVerdict(verdict: VerdictRequest, maxBytes = VERDICT_MAX_BYTES): VerdictRequest {
  const patch = verdict.patch;
  if (!patch) return verdict;
  const size = Buffer.byteLength(JSON.stringify(verdict));
  if (size <= maxBytes) return verdict;
  const own = Buffer.byteLength(JSON.stringify(patch.text)) - 2;
  const room = Math.max(0, own - (size - maxBytes));
  return { ...verdict, patch: { ...boundPatch(patch.text, patch.bytes, true, room), truncated: true } };
}
