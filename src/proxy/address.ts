// host:port as the Toxiproxy API writes addresses (IPv6 in brackets; an empty host or
// "localhost" means the IPv4 loopback, so a link never listens wider than asked).

import { apiErrors } from "./errors.js";

export function splitHostPort(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address.trim());
  if (!match) throw apiErrors.badBody(`address "${address}" is not host:port`);
  const host = match[1] ?? match[2] ?? "";
  return { host: host === "" || host === "localhost" ? "127.0.0.1" : host, port: Number(match[3]) };
}
