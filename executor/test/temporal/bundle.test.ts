// The workflow bundle, built the way a worker builds it. Building it proves the workflow code
// obeys Temporal's sandbox: no Node built-ins, and the activities imported as types only.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleWorkflowCode, DefaultLogger } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workflowsPath } from "../../src/temporal/worker";

const logger = new DefaultLogger("ERROR");

/** Bundles `file`, returning what the bundler complained about (its errors go to the logger). */
async function refused(file: string): Promise<string> {
  const said: string[] = [];
  const collect = new DefaultLogger("WARN", (entry) => said.push(entry.message));
  const err = await bundleWorkflowCode({ workflowsPath: file, logger: collect }).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err, "the bundler accepted it").toBeInstanceOf(Error);
  return said.join("\n");
}
let code = "";

beforeAll(async () => {
  ({ code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger }));
}, 120_000);

const scratch = mkdtempSync(join(tmpdir(), "mtor-bundle-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("workflow bundle", () => {
  it("bundles specRun with the shared step sequence and decideVerdict", () => {
    expect(code.length).toBeGreaterThan(1000);
    expect(code).toContain("specRun");
    expect(code).toContain("decideVerdict");
    expect(code).toContain("runSteps");
  });

  it("carries no activity code, no git, no Node built-ins and no schema runtime", () => {
    // The activities' implementation and what it pulls in stay out of the sandbox.
    for (const absent of [
      "createTemporalActivities",
      "createActivities",
      "syncMirror",
      "VerdictSpool",
      "child_process",
      "node:fs",
      "smol-toml",
      "zod",
    ]) {
      expect(code, absent).not.toContain(absent);
    }
  });

  it("refuses a workflow that imports a Node built-in (the check above is real)", async () => {
    const dir = join(scratch, "bad");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "workflows.ts");
    writeFileSync(
      file,
      'import { readFileSync } from "node:fs";\nexport async function leaky(): Promise<string> {\n  return readFileSync("/etc/hostname", "utf8");\n}\n',
    );
    expect(await refused(file)).toMatch(/node:fs/);
  }, 120_000);

  it("refuses a workflow that imports the activities' code instead of their types", async () => {
    const dir = join(scratch, "values");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "workflows.ts");
    writeFileSync(
      file,
      `import { createTemporalActivities } from ${JSON.stringify(join(workflowsPath(), "..", "activities"))};\nexport async function direct(): Promise<string> {\n  return typeof createTemporalActivities;\n}\n`,
    );
    // The activities pull in git, the spool and node: modules, which the sandbox refuses.
    expect(await refused(file)).toMatch(/node:|child_process/);
  }, 120_000);
});
