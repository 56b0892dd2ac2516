// The Temporal CLI the integration tests run is the pinned release: the one .ci/run builds and
// the README tells developers to build.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/local/control-plane";
import { TEMPORAL_CLI_INSTALL, TEMPORAL_CLI_VERSION, temporalCli } from "./dev-server";

describe("the Temporal CLI of the tests", () => {
  it(".ci/run and the README pin the release the tests expect", () => {
    const ci = readFileSync(join(REPO_ROOT, ".ci", "run"), "utf8");
    expect(ci).toContain(`TEMPORAL_CLI_VERSION=${TEMPORAL_CLI_VERSION}\n`);
    expect(ci).toContain(`go install "github.com/temporalio/cli/cmd/temporal@\${TEMPORAL_CLI_VERSION}"`);
    expect(readFileSync(join(REPO_ROOT, "README.md"), "utf8")).toContain(TEMPORAL_CLI_INSTALL);
  });

  it("the binary found is that release (read from its Go build info)", () => {
    const bin = readFileSync(temporalCli());
    const key = Buffer.from("mod\tgithub.com/temporalio/cli\t");
    const at = bin.indexOf(key);
    expect(at, "the binary carries Go build info for github.com/temporalio/cli").toBeGreaterThan(0);
    const version = bin
      .subarray(at + key.length, at + key.length + 40)
      .toString()
      .split("\t")[0];
    expect(version).toBe(TEMPORAL_CLI_VERSION);
  });

  it("a missing binary fails with the command that builds it", () => {
    const saved = process.env.MTOR_TEMPORAL_CLI;
    process.env.MTOR_TEMPORAL_CLI = "/nonexistent/temporal";
    try {
      expect(() => temporalCli()).toThrow(
        `/nonexistent/temporal is not an executable. Build it with \`${TEMPORAL_CLI_INSTALL}\``,
      );
    } finally {
      if (saved === undefined) delete process.env.MTOR_TEMPORAL_CLI;
      else process.env.MTOR_TEMPORAL_CLI = saved;
    }
  });
});
