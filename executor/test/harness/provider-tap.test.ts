// The provider tap relays requests unchanged and reads real statuses and retry-after headers.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Failure } from "@mtor/schema";
import { describe, expect, it } from "vitest";
import { startDemoProvider } from "../../src/demo/provider";
import { retryAfterSeconds, startProviderTap } from "../../src/harness/provider-tap";

describe("provider tap", () => {
  it("relays a streamed answer byte for byte and fails fast on a 429 with the header's seconds", async () => {
    const provider = await startDemoProvider();
    const failures: Failure[] = [];
    const tap = await startProviderTap({ upstream: provider.url, onFailure: (f) => failures.push(f) });
    try {
      const body = {
        model: "demo",
        stream: true,
        messages: [{ role: "user", content: "hi" }],
        tools: [{ name: "Bash" }],
      };
      const res = await fetch(`${tap.url}/v1/messages?beta=true`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      expect(text).toContain("event: message_stop");
      expect(provider.requests.at(-1)?.path).toBe("/v1/messages");
      expect(failures).toEqual([]);

      const limited = await fetch(`${tap.url}/v1/messages`, {
        method: "POST",
        body: JSON.stringify({
          messages: [{ role: "user", content: "<!-- mtor-demo: rate_limit retry_after=33 -->" }],
        }),
      });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBe("33");
      expect(failures).toEqual([expect.objectContaining({ kind: "rate_limited", retry_after_s: 33 })]);
      expect(tap.statuses).toEqual([200, 429]);
    } finally {
      await tap.close();
      await provider.close();
    }
  });

  it("lets one provider error through, fails on the next, and reports an unreachable provider", async () => {
    const provider = await startDemoProvider({ script: "error_529" });
    const failures: Failure[] = [];
    const tap = await startProviderTap({
      upstream: provider.url,
      maxErrors: 1,
      onFailure: (f) => failures.push(f),
    });
    const ask = () =>
      fetch(`${tap.url}/v1/messages`, { method: "POST", body: JSON.stringify({ messages: [] }) });
    try {
      expect((await ask()).status).toBe(529);
      expect(failures).toEqual([]);
      expect((await ask()).status).toBe(529);
      expect(failures).toEqual([
        { kind: "provider", message: "provider answered 529 overloaded: Overloaded" },
      ]);
    } finally {
      await tap.close();
      await provider.close();
    }

    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const down: Failure[] = [];
    const tap2 = await startProviderTap({
      upstream: `http://127.0.0.1:${port}`,
      maxErrors: 0,
      onFailure: (f) => down.push(f),
    });
    try {
      const res = await fetch(`${tap2.url}/v1/messages`, { method: "POST", body: "{}" });
      expect(res.status).toBe(502);
      expect(down[0]).toMatchObject({ kind: "provider", message: expect.stringContaining("ECONNREFUSED") });
    } finally {
      await tap2.close();
    }
  });

  it("holds every request until holdUntil settles, and sends none upstream when it rejects", async () => {
    const provider = await startDemoProvider();
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const tap = await startProviderTap({ upstream: provider.url, onFailure: () => {}, holdUntil: held });
    // Told when the tap, holding a request, starts waiting on the hold (from here on).
    let waiting!: () => void;
    const tapWaits = new Promise<void>((r) => {
      waiting = r;
    });
    const then = held.then.bind(held);
    // biome-ignore lint/suspicious/noThenProperty: wrapped so the test is told when the tap waits on it
    held.then = ((...args: Parameters<typeof then>) => {
      waiting();
      return then(...args);
    }) as typeof held.then;
    let refuse!: (err: Error) => void;
    const refused = new Promise<void>((_, rej) => {
      refuse = rej;
    });
    const tap2 = await startProviderTap({ upstream: provider.url, onFailure: () => {}, holdUntil: refused });
    const ask = (url: string) =>
      fetch(`${url}/v1/messages`, {
        method: "POST",
        body: JSON.stringify({ model: "demo", messages: [{ role: "user", content: "hi" }] }),
      });
    try {
      let answered = false;
      const asking = ask(tap.url).then((res) => {
        answered = true;
        return res;
      });
      // The tap has read the request and waits on the hold: nothing went upstream.
      await tapWaits;
      expect(answered).toBe(false);
      expect(provider.requests).toEqual([]);
      release();
      expect((await asking).status).toBe(200);
      expect(provider.requests).toHaveLength(1);

      const refusing = ask(tap2.url);
      refuse(new Error("the origin could not be listed"));
      const res = await refusing;
      expect(res.status).toBe(503);
      expect(await res.text()).toContain("the origin could not be listed");
      expect(provider.requests).toHaveLength(1);
    } finally {
      await tap.close();
      await tap2.close();
      await provider.close();
    }
  });

  it("reads retry-after as seconds, an HTTP date, or retry-after-ms", () => {
    expect(retryAfterSeconds(new Headers({ "retry-after": "120" }))).toBe(120);
    expect(retryAfterSeconds(new Headers({ "retry-after-ms": "1500" }))).toBe(2);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterSeconds(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:01:30 GMT" }), now)).toBe(90);
    expect(retryAfterSeconds(new Headers())).toBeUndefined();
  });
});
