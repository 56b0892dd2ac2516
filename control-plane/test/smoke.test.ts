import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";
it("serves healthz", async () => {
  const res = await SELF.fetch("http://x/healthz");
  expect(await res.json()).toEqual({ ok: true, n: 1 });
});
