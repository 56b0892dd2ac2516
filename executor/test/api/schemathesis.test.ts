// schemathesis, an API tester nobody here wrote, against the control plane in wrangler dev,
// driven by /v1/openapi.json alone: the short, bounded run of `npm run fuzz:schema -- --quick`.
// No 5xx, every response as documented, only documented status codes, stateful links followed.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Summary } from "../../../bench/fuzz-schema";
import { REPO_ROOT } from "../../src/local/control-plane";

function runFuzzSchema(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
        join(REPO_ROOT, "bench", "fuzz-schema.ts"),
        ...args,
      ],
      { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr.on("data", (b: Buffer) => (output += b.toString()));
    child.once("exit", (code) => resolve({ code, output }));
  });
}

describe("schemathesis against the API", () => {
  it("finds no server error, no undocumented status and no response off its schema", {
    timeout: 300_000,
  }, async () => {
    // A fixed seed: the same cases on every run, so a failure here is reproducible with it.
    const { code, output } = await runFuzzSchema(["--quick", "--seed", "20261130"]);
    const line = output.split("\n").find((l) => l.startsWith("schemathesis summary: "));
    expect(line, output.slice(-6000)).toBeDefined();
    const summary = JSON.parse((line as string).slice("schemathesis summary: ".length)) as Summary;
    expect({ code, failures: summary.failures, errors: summary.errors }, output.slice(-6000)).toEqual({
      code: 0,
      failures: 0,
      errors: 0,
    });
    expect(summary.checks).toEqual([
      "not_a_server_error",
      "status_code_conformance",
      "response_schema_conformance",
    ]);
    // Every operation of the document was exercised, through every phase, stateful included.
    expect(summary.operations_selected).toBeGreaterThanOrEqual(30);
    expect(summary.operations_tested).toBe(summary.operations_selected);
    expect(summary.phases).toEqual(
      expect.arrayContaining([
        { phase: "coverage", state: "passed" },
        { phase: "fuzzing", state: "passed" },
        { phase: "stateful", state: "passed" },
      ]),
    );
    expect(summary.test_cases).toBeGreaterThan(500);
  });
});
