// chaoscast's own version, read from package.json next to the compiled code.

import { readFileSync } from "node:fs";

let cached: string | undefined;

export function chaoscastVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
  return cached;
}
