// What the kernel shows of TCP connections on this machine (Linux /proc/net/tcp*), so a test can
// wait until a component has really let go of its connections instead of sleeping and hoping.

import { readFileSync } from "node:fs";

/** ESTABLISHED and CLOSE_WAIT: a connection that some program still holds open, not yet closed on its side. */
const HELD = new Set(["01", "08"]);

/**
 * Connections with `port` at either end (so both sides of a loopback connection count) that a
 * program still holds open. Connections the programs have closed (TIME_WAIT, FIN_WAIT …) and
 * listening sockets do not count.
 */
export function openConnections(port: number): number {
  let count = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let table: string;
    try {
      table = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of table.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || !HELD.has(fields[3]!)) continue;
      const ports = [fields[1]!, fields[2]!].map((address) => Number.parseInt(address.split(":").pop()!, 16));
      if (ports.includes(port)) count += 1;
    }
  }
  return count;
}
