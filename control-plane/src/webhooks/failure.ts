// What failed when a webhook request got no answer: DNS, connect, TLS or timeout, said in
// words a person can act on, instead of the runtime's bare "internal error; reference = …".

/** The messages and codes of an error and its causes, joined. */
function errorText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    if (e instanceof Error) {
      parts.push(e.message);
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string") parts.push(code);
      e = (e as { cause?: unknown }).cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.filter(Boolean).join(": ");
}

const DNS =
  /ENOTFOUND|EAI_AGAIN|EAI_NONAME|getaddrinfo|\bdns\b|name (not )?resol|could not resolve|no such host|DNS lookup/i;
const TLS = /\btls\b|\bssl\b|certificate|handshake|CERT_|self[- ]signed|unable to verify/i;
const CONNECT =
  /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|connection refused|connection reset|network is unreachable|connect(ion)? (error|failed)|socket/i;

/** One line naming the stage that failed and the receiver it was talking to. */
export function describeFetchError(err: unknown, url: URL, timeoutMs: number): string {
  const name = err instanceof Error ? err.name : "";
  const host = url.hostname;
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  if (name === "TimeoutError" || name === "AbortError")
    return `timeout: no answer from ${host} within ${timeoutMs / 1000} s`;
  const text = errorText(err).replace(/\s+/g, " ").slice(0, 200);
  if (DNS.test(text)) return `DNS: ${host} does not resolve (${text})`;
  if (TLS.test(text)) return `TLS: the secure connection to ${host}:${port} failed (${text})`;
  if (CONNECT.test(text)) return `connect: cannot connect to ${host}:${port} (${text})`;
  // The Workers runtime hides the stage behind "internal error; reference = …".
  return `connect: no connection to ${host}:${port} (DNS, TCP or TLS; the runtime says: ${text})`;
}

/** A receiver that answered, but not with 2xx. */
export function describeStatus(status: number): string {
  return status >= 300 && status < 400
    ? `status: redirect (${status}) not followed`
    : `status: answered ${status}`;
}
