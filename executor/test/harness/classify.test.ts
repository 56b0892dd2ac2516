// Provider errors as harnesses print them, turned into failure kinds.
import { describe, expect, it } from "vitest";
import { classifyProviderError, DEFAULT_RETRY_AFTER_S } from "../../src/harness/classify";

describe("classifyProviderError", () => {
  it("uses the HTTP status when the harness reports one", () => {
    expect(classifyProviderError("API Error: Request rejected (429) · slow down", 429)).toMatchObject({
      kind: "rate_limited",
      retry_after_s: DEFAULT_RETRY_AFTER_S,
    });
    expect(classifyProviderError("Invalid API key · Fix external API key", 401)?.kind).toBe("auth");
    expect(classifyProviderError("forbidden", 403)?.kind).toBe("auth");
    expect(classifyProviderError("API Error: 529 Overloaded", 529)).toMatchObject({
      kind: "provider",
      message: expect.stringContaining("529 overloaded"),
    });
    expect(classifyProviderError("bad gateway", 502)?.kind).toBe("provider");
    expect(classifyProviderError("model not found", 404)).toBeNull();
  });

  it("reads the text when there is no status", () => {
    expect(classifyProviderError("Rate limit reached; retry after 75 seconds")).toMatchObject({
      kind: "rate_limited",
      retry_after_s: 75,
    });
    expect(classifyProviderError("429 Too Many Requests, retry-after-ms: 2500")).toMatchObject({
      kind: "rate_limited",
      retry_after_s: 3,
    });
    expect(classifyProviderError('{"type":"authentication_error"}')?.kind).toBe("auth");
    expect(classifyProviderError("overloaded_error: Overloaded")?.kind).toBe("provider");
    expect(classifyProviderError("connect ECONNREFUSED 127.0.0.1:9")).toMatchObject({
      kind: "provider",
      message: expect.stringContaining("cannot reach"),
    });
    expect(classifyProviderError("TypeError: cannot read properties of undefined")).toBeNull();
  });
});
