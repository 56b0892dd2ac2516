// createExecutor: one place builds an executor for either engine, from the same config.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config";
import { createExecutor } from "../../src/daemon/create";
import type { Wiring } from "../../src/daemon/wiring";
import { createSandbox } from "../../src/sandbox";
import { MINIMAL_ENV, minimalConfig } from "../config-fixture";

const dir = mkdtempSync(join(tmpdir(), "mtor-create-executor-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const wiring: Wiring = {
  sandbox: createSandbox("none"),
  harnessFor: () => {
    throw new Error("no run in this test");
  },
  buildPrompt: (spec) => spec.body,
};

describe("createExecutor", () => {
  it("builds the local engine's daemon with its steps, without starting it", async () => {
    const config = parseConfig(minimalConfig(), MINIMAL_ENV, dir);
    const ex = await createExecutor(config, "local", { wiring, log: () => {} });
    expect(ex.daemon.config.id).toBe("box-a");
    expect(typeof ex.daemon.activities.prepareWorktree).toBe("function");
    expect(typeof ex.run).toBe("function");
  });

  it("refuses a bad [temporal] table before it connects, naming the key", async () => {
    const config = parseConfig(
      minimalConfig({ top: ['engine = "temporal"'], tables: ["[temporal]", 'adress = "localhost:7233"'] }),
      MINIMAL_ENV,
      dir,
    );
    const err = await createExecutor(config, "temporal", { wiring, log: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.join("\n")).toContain("temporal.adress: unknown key");
  });
});
