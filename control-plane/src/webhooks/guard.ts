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
  const port = url.port === "" ? null : Number(url.port);
  if (port !== null && port < 1024 && port !== 80 && port !== 443) {
    return {
      ok: false,
      reason: `port ${port} is not allowed: below 1024 only 80 and 443 take webhooks (1024 and up are fine)`,
    };
  }
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

/** The eight 16-bit groups of an IPv6 address (with `::` and a dotted IPv4 tail), or null. */
export function parseIpv6(addr: string): number[] | null {
  let text = addr.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseIpv4(dotted[2]);
    if (!v4) return null;
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    text = dotted[1].endsWith("::") ? dotted[1] : dotted[1].slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const group = (g: string) => (/^[0-9a-f]{1,4}$/.test(g) ? Number.parseInt(g, 16) : Number.NaN);
  const head = halves[0] ? halves[0].split(":").map(group) : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":").map(group) : [];
  const known = head.length + rest.length + tail.length;
  if ([...head, ...rest].some(Number.isNaN)) return null;
  if (halves.length === 1 && known !== 8) return null;
  if (halves.length === 2 && known > 7) return null;
  return [...head, ...new Array(8 - known).fill(0), ...rest, ...tail];
}

const v4Of = (hi: number, lo: number): number[] => [hi >> 8, hi & 255, lo >> 8, lo & 255];

/**
 * Loopback, unspecified, private, link-local, site-local, multicast and documentation ranges,
 * and every form that carries an IPv4 address inside (IPv4-compatible, -mapped, -translated,
 * NAT64, 6to4, Teredo) when that address is private — Teredo and local-use NAT64 always.
 */
function isPrivateIpv6(addr: string): boolean {
  const g = parseIpv6(addr);
  if (!g) return true; // not an address we understand: refuse rather than guess
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  // ::/96 (unspecified, loopback, IPv4-compatible), ::ffff:0:0/96 (mapped), ::ffff:0:0:0/96 (translated)
  if (zeros(0, 5) && (g[5] === 0 || g[5] === 0xffff)) return g[6] === 0 || isPrivateIpv4(v4Of(g[6], g[7]));
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return isPrivateIpv4(v4Of(g[6], g[7]));
  // 64:ff9b::/96 (NAT64) carries an IPv4 address; 64:ff9b:1::/48 is local-use NAT64.
  if (g[0] === 0x64 && g[1] === 0xff9b) return g[2] === 1 || isPrivateIpv4(v4Of(g[6], g[7]));
  // 2002::/16 (6to4) carries an IPv4 address in its next 32 bits.
  if (g[0] === 0x2002) return isPrivateIpv4(v4Of(g[1], g[2]));
  // 2001::/32 (Teredo) hides a client address; 2001:db8::/32 is documentation.
  if (g[0] === 0x2001 && (g[1] === 0 || g[1] === 0xdb8)) return true;
  // 100::/64 is the discard prefix.
  if (g[0] === 0x100 && zeros(1, 4)) return true;
  return (
    (g[0] & 0xfe00) === 0xfc00 || // unique local
    (g[0] & 0xffc0) === 0xfe80 || // link-local
    (g[0] & 0xffc0) === 0xfec0 || // site-local (deprecated, still routed privately)
    (g[0] & 0xff00) === 0xff00 // multicast
  );
}
