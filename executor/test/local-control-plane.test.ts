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

  it("runs the production Worker, which has no test routes: its clock cannot be pinned", async () => {
    if (!cp) throw new Error("the control plane of the test before did not start");
    const url = cp.url;
    const auth = { authorization: `Bearer ${secret}` };
    for (const path of ["/__test/clock", "/__test/seed"]) {
      const res = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ms: Date.UTC(2001, 0, 1), template: "x", queued: 5 }),
      });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe("not_found");
    }
    // The Fleet still runs on real time: a spec dispatched now is stamped now, not in 2001.
    const dispatched = await fetch(`${url}/v1/specs`, {
      method: "POST",
      headers: { ...auth, "content-type": "text/markdown" },
      body: "---\ntitle: clock probe\nrepo: r\ntests: [t]\nstop: Stop after t.\n---\nProbe.\n",
    });
    expect(dispatched.status).toBe(201);
    const { id } = (await dispatched.json()) as { id: string };
    const spec = (await (await fetch(`${url}/v1/specs/${id}`, { headers: auth })).json()) as {
      created_at: string;
    };
    expect(Math.abs(Date.parse(spec.created_at) - Date.now())).toBeLessThan(60_000);
  });
});
