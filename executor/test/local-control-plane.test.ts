// The local control plane (`npm start`, `mtor up`, tests, benchmarks) gets its tokens and keys
// without putting them on a command line, where any user's `ps` would show them.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type LocalControlPlane, startControlPlane } from "../src/local/control-plane";

const secret = `cmdline-secret-${crypto.randomUUID()}`;
const root = mkdtempSync(join(tmpdir(), "mtor-cp-vars-"));
let cp: LocalControlPlane | undefined;

afterAll(async () => {
  await cp?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Command lines of every process on the box that mention `text`. */
function commandLinesWith(text: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      if (cmd.includes(text)) out.push(`${pid} ${cmd}`);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return out;
}

describe("local control plane", () => {
  it("takes its variables from an owner-only file, none on any command line", {
    timeout: 120_000,
  }, async () => {
    const persistDir = join(root, "state");
    cp = await startControlPlane({
      persistDir,
      vars: { OPERATOR_TOKENS: `ops:${secret}:admin`, EXECUTOR_KEYS: `k:${secret}-key` },
    });
    // The variables took effect: the token works.
    const res = await fetch(`${cp.url}/v1/status`, { headers: { authorization: `Bearer ${secret}` } });
    expect(res.status).toBe(200);
    // wrangler, workerd and anything they started: not one command line carries the secret.
    expect(commandLinesWith(secret)).toEqual([]);
    expect(statSync(join(persistDir, "worker-vars.env")).mode & 0o777).toBe(0o600);
  });
});
