// Request and response headers a proxy must not set for its own purposes: those that frame the
// message or the connection (a wrong value breaks the exchange), and those that carry identity.

const RESERVED = new Set([
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "upgrade",
  "cookie",
  "set-cookie",
  "authorization",
  "www-authenticate",
  "expect",
]);

export function isReservedHeader(name: string): boolean {
  return RESERVED.has(name.toLowerCase());
}
