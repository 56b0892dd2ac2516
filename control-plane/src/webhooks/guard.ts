// Refuses webhook URLs that point at private, loopback or link-local addresses, so an endpoint
// cannot make the control plane probe its own network. ALLOW_PRIVATE_WEBHOOKS=true lifts it for
// local use. Host names are checked as written; Workers' fetch resolves DNS outside our reach.

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

export function checkWebhookUrl(raw: string, allowPrivate: boolean): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not a valid URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, reason: `scheme ${url.protocol} is not allowed; use https` };
  }
  if (url.username || url.password) {
    return { ok: false, reason: "credentials in the URL are not allowed; put tokens in the query or path" };
  }
  if (allowPrivate) return { ok: true, url };
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (isPrivateHost(host)) {
    return {
      ok: false,
      reason: `${host} is a private, loopback or link-local address; set ALLOW_PRIVATE_WEBHOOKS=true for local use`,
    };
  }
  return { ok: true, url };
}

export function isPrivateHost(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host.endsWith(".local") || host.endsWith(".internal") || host.endsWith(".home.arpa")) return true;
  if (!host.includes(".") && !host.startsWith("[")) return true; // a bare intranet name
  const v4 = parseIpv4(host);
  if (v4) return isPrivateIpv4(v4);
  if (host.startsWith("[") && host.endsWith("]")) return isPrivateIpv6(host.slice(1, -1));
  return false;
}

function parseIpv4(host: string): number[] | null {
  // WHATWG URL parsing already normalises decimal, octal and hex forms to dotted quads.
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function isPrivateIpv4([a, b]: number[]): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}

function isPrivateIpv6(addr: string): boolean {
  const a = addr.toLowerCase();
  if (a === "::" || a === "::1") return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return isPrivateIpv4(parseIpv4(mapped[1]) ?? [0]);
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hexMapped) {
    const hi = Number.parseInt(hexMapped[1], 16);
    return isPrivateIpv4([hi >> 8, hi & 255]);
  }
  const first = Number.parseInt(a.split(":")[0] || "0", 16);
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00;
}
