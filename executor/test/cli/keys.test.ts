// `mtor keys`: the next EXECUTOR_KEYS value, since Cloudflare secrets cannot be read back. The
// value it prints is what the control plane parses, and the secret it hands the box signs
// requests that key verifies.
import { ExecutorClient, parseExecutorKeys } from "@mtor/schema";
import { verifyRequest } from "@mtor/schema/signing";
import { describe, expect, it } from "vitest";
import { mtor } from "./harness";

describe("mtor keys", () => {
  it("add: a fresh secret for the key id; the old keys kept; the secret on stderr as an env line", async () => {
    const r = await mtor(["keys", "add", "box-2", "--current", "box-1:old-secret"]);
    expect(r.code, r.stderr).toBe(0);
    const keys = parseExecutorKeys(r.stdout.trim());
    expect([...keys.keys()]).toEqual(["box-1", "box-2"]);
    expect(keys.get("box-1")).toBe("old-secret");
    const secret = /^MTOR_EXECUTOR_SECRET=(\S+)$/m.exec(r.stderr)?.[1];
    expect(secret).toBe(keys.get("box-2"));
    expect(Buffer.from(secret as string, "base64url").length).toBe(32);
    expect(r.stderr).toContain("wrangler secret put EXECUTOR_KEYS --env production");
    expect(r.stdout).not.toContain("MTOR_EXECUTOR_SECRET");
    // Another run gives another secret.
    const again = await mtor(["keys", "add", "box-2", "--current", "box-1:old-secret"]);
    expect(parseExecutorKeys(again.stdout.trim()).get("box-2")).not.toBe(secret);
  });

  it("the new key signs requests the control plane's parser accepts", async () => {
    const r = await mtor(["keys", "add", "box-9"], { env: { EXECUTOR_KEYS: "" } });
    const keys = parseExecutorKeys(r.stdout.trim());
    const secret = keys.get("box-9") as string;
    const seen: Request[] = [];
    const client = new ExecutorClient({
      url: "http://cp.test",
      keyId: "box-9",
      secret,
      fetch: async (req) => {
        seen.push(req);
        return Response.json({ runs: [], reason: "empty" });
      },
    });
    await client.claim({
      executor: {
        id: "box-9",
        host: "h",
        version: "0",
        arch: "arm64",
        capacity: 1,
        providers: [],
        repos: [],
        load: { cpu: 0, mem_free: 1 },
      },
      free: 1,
      wait_s: 0,
    });
    const req = seen[0];
    const body = await req.clone().arrayBuffer();
    const check = (keys: Map<string, string>) =>
      verifyRequest({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body,
        keys,
        now: Math.floor(Date.now() / 1000),
      });
    expect(await check(keys)).toMatchObject({ ok: true, keyid: "box-9" });
    expect(await check(new Map([["box-9", "another-secret"]]))).toMatchObject({ ok: false });
  });

  it("remove drops one key; refuses an unknown id, the last key, a duplicate id and a malformed value", async () => {
    const r = await mtor(["keys", "remove", "box-1"], { env: { EXECUTOR_KEYS: "box-1:a,box-2:b" } });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("box-2:b");
    expect((await mtor(["keys", "remove", "box-3"], { env: { EXECUTOR_KEYS: "box-1:a" } })).code).toBe(2);
    expect((await mtor(["keys", "remove", "box-1"], { env: { EXECUTOR_KEYS: "box-1:a" } })).code).toBe(2);
    expect((await mtor(["keys", "add", "box-1"], { env: { EXECUTOR_KEYS: "box-1:a" } })).code).toBe(2);
    const bad = await mtor(["keys", "add", "box-2", "--current", "box-1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("not a comma-separated list of keyid:secret");
    expect((await mtor(["keys", "add", "bad id"])).code).toBe(2);
  });
});
