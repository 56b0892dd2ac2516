// Smoke test of the Worker: /healthz answers without a token and a dispatched spec can be read back.
import { expect, it } from "vitest";
import { api, dispatchSpec } from "./helpers";

it("serves /healthz without a token", async () => {
  const res = await api("/healthz", { token: null });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
});

it("dispatches and shows a spec", async () => {
  const id = await dispatchSpec("First spec");
  expect(id).toMatch(/^[a-z0-9]{8}$/);
  const res = await api(`/v1/specs/${id}`);
  expect(res.status).toBe(200);
  const spec = (await res.json()) as { status: string; title: string };
  expect(spec).toMatchObject({ status: "queued", title: "First spec" });
});
