// A run's patch: carried by the verdict, bounded so the verdict fits the request body limit,
// stored apart from the runs and shown with the spec it belongs to.
import { boundPatch, PATCH_MAX_BYTES } from "@mtor/schema";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../src/body";
import { api, dispatchSpec, executorClient, startClock } from "./helpers";
import { claimOne, sendVerdict } from "./webhooks-helpers";

beforeAll(async () => {
  await startClock(Date.now());
});

/** A diff of about `size` bytes whose lines cost the most to send as JSON: quotes, backslashes, control characters, markup, multi-byte text. */
function hostileDiff(size: number): string {
  const lines = ["diff --git a/x.ts b/x.ts", "--- a/x.ts", "+++ b/x.ts", "@@ -1,1 +1,100000 @@"];
  let n = 0;
  let i = 0;
  while (n < size) {
    const line = `+"\\"\u0001\u001b[31m<script>alert(${i++})</script> ü€😀 ""\\\\`;
    lines.push(line);
    n += new TextEncoder().encode(`${line}\n`).length;
  }
  return `${lines.join("\n")}\n`;
}

describe("the patch a verdict carries", () => {
  it("a huge diff is cut with the truncation stated, and the whole verdict is still accepted", async () => {
    const diff = hostileDiff(1024 * 1024);
    const bytes = new TextEncoder().encode(diff).length;
    const patch = boundPatch(diff, bytes, true);
    expect(patch.truncated).toBe(true);
    expect(patch.bytes).toBe(bytes);
    expect(diff.startsWith(patch.text)).toBe(true);
    expect(patch.text.endsWith("\n")).toBe(true);
    const jsonBytes = new TextEncoder().encode(JSON.stringify(patch.text)).length - 2;
    expect(jsonBytes).toBeLessThanOrEqual(PATCH_MAX_BYTES);
    expect(jsonBytes).toBeGreaterThan(PATCH_MAX_BYTES - 200);

    const id = await dispatchSpec("huge patch", { provider: "p-patch" });
    const run = await claimOne("ex-patch", "p-patch");
    // Everything else at its worst too: the longest log tail an executor sends, all quotes.
    const verdict = {
      outcome: "passed" as const,
      branch: `mtor/${id}-1`,
      head_sha: "a".repeat(40),
      base_sha: "b".repeat(40),
      commits: 3,
      diffstat: { files: 1, insertions: 100000, deletions: 0 },
      log_tail: '"'.repeat(16_000),
      patch,
    };
    const body = JSON.stringify({ token: run.lease.token, flags: [], duration_ms: 1000, ...verdict });
    expect(new TextEncoder().encode(body).length).toBeLessThan(MAX_BODY_BYTES);
    expect(await sendVerdict(run, verdict)).toEqual({ status: "awaiting_review" });

    const detail = (await (await api(`/v1/specs/${id}`)).json()) as {
      runs: { patch: { text: string; truncated: boolean; bytes: number } | null }[];
    };
    expect(detail.runs[0].patch).toEqual(patch);
    // The list never carries patches.
    const list = await (await api("/v1/specs?count=100")).text();
    expect(list).not.toContain("<script>alert(");
  });

  it("a small diff is carried whole; a run without one shows null", async () => {
    const diff = "diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-old\n+new\n";
    expect(boundPatch(diff, diff.length, true)).toEqual({ text: diff, truncated: false, bytes: diff.length });
    const id = await dispatchSpec("small patch", { provider: "p-patch2" });
    const run = await claimOne("ex-patch2", "p-patch2");
    await sendVerdict(run, { outcome: "rejected", patch: boundPatch(diff, diff.length, true) });
    const id2 = await dispatchSpec("no patch", { provider: "p-patch2" });
    const run2 = await claimOne("ex-patch2", "p-patch2");
    await sendVerdict(run2, { outcome: "passed" });
    const one = (await (await api(`/v1/specs/${id}`)).json()) as { runs: { patch: unknown }[] };
    const two = (await (await api(`/v1/specs/${id2}`)).json()) as { runs: { patch: unknown }[] };
    expect(one.runs[0].patch).toEqual({ text: diff, truncated: false, bytes: diff.length });
    expect(two.runs[0].patch).toBeNull();
  });

  it("refuses a verdict whose patch is over the bound", async () => {
    await dispatchSpec("over patch", { provider: "p-patch3" });
    const run = await claimOne("ex-patch3", "p-patch3");
    const r = await executorClient().verdict(run.run_id, {
      token: run.lease.token,
      outcome: "passed",
      flags: [],
      duration_ms: 1,
      // Over the bound yet well under the body limit: the schema refuses it, not the body reader.
      patch: { text: `+${"x".repeat(60)}\n`.repeat(3304), truncated: false, bytes: 3304 * 62 },
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.status).toBe(400);
    expect(JSON.stringify(r)).toContain("patch");
  });
});
