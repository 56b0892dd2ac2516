// `mtor token`: the local stack's admin and read-only tokens, from .mtor/secrets.json, the same
// ones the local control plane is started with.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { controlPlaneVars, ensureSecrets } from "../../src/up/state";
import { mtor } from "./harness";

const dir = mkdtempSync(join(tmpdir(), "mtor-token-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("mtor token", () => {
  it("prints the admin token npm start prints, and a read-only one the local control plane accepts as read", async () => {
    const state = join(dir, "a");
    const admin = await mtor(["token", "--state-dir", state]);
    const read = await mtor(["token", "--role", "read", "--state-dir", state]);
    expect(admin.code).toBe(0);
    expect(read.code).toBe(0);
    const secrets = JSON.parse(readFileSync(join(state, "secrets.json"), "utf8"));
    expect(admin.stdout.trim()).toBe(secrets.operatorToken);
    expect(read.stdout.trim()).toBe(secrets.readToken);
    expect(read.stdout.trim()).not.toBe(admin.stdout.trim());
    const tokens = controlPlaneVars(ensureSecrets(state)).OPERATOR_TOKENS.split(",");
    expect(tokens).toContain(`local:${secrets.operatorToken}:admin`);
    expect(tokens).toContain(`local-read:${secrets.readToken}:read`);
    // Asking again gives the same token.
    expect((await mtor(["token", "--role", "read", "--state-dir", state])).stdout).toBe(read.stdout);
  });

  it("adds a read token to an older secrets file, keeping the admin token and executor key valid", async () => {
    const state = join(dir, "b");
    const old = { operatorToken: "mtor_old", executorKeyId: "local", executorSecret: "k", actionSecret: "a" };
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, "secrets.json"), JSON.stringify(old));
    const read = await mtor(["token", "--role", "read", "--state-dir", state]);
    expect(read.code).toBe(0);
    expect(read.stderr).toContain("a running `npm start` learns it when it is restarted");
    const now = JSON.parse(readFileSync(join(state, "secrets.json"), "utf8"));
    expect(now).toMatchObject(old);
    expect(read.stdout.trim()).toBe(now.readToken);
    expect((await mtor(["token", "--state-dir", state])).stdout.trim()).toBe("mtor_old");
  });

  it("refuses an unknown role as a usage error", async () => {
    const r = await mtor(["token", "--role", "root", "--state-dir", join(dir, "c")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--role must be admin or read");
  });
});
