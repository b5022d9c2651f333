// What the player probe needs from outside chaoscast: playwright-core, the hls.js or dash.js build
// that the pages load, and the system's Chromium. All optional, all loaded only when a probe runs.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Browser } from "playwright-core";

/** Debian's Chromium; CHAOSCAST_CHROMIUM names another Chromium or Chrome binary. */
export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--autoplay-policy=no-user-gesture-required",
  "--mute-audio",
];

const INSTALL = "npm install playwright-core hls.js dashjs (chaoscast's optional dependencies), and Debian's chromium (apt-get install chromium)";

/** The probe cannot run on this machine; the message says what to install. */
export class PlayerUnavailable extends Error {
  override name = "PlayerUnavailable";
}

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHAOSCAST_CHROMIUM || DEFAULT_CHROMIUM;
}

const LIBRARIES = {
  hls: { pkg: "hls.js", file: "hls.js/dist/hls.min.js" },
  dash: { pkg: "dashjs", file: "dashjs" },
} as const;

const scripts = new Map<string, Promise<string>>();

/** The player library's browser build (read once per process). */
export function playerLibrary(kind: "hls" | "dash"): Promise<string> {
  let script = scripts.get(kind);
  if (!script) {
    const { pkg, file } = LIBRARIES[kind];
    script = (async () => {
      let resolved: string;
      try {
        resolved = createRequire(import.meta.url).resolve(file);
      } catch {
        throw new PlayerUnavailable(`the player probe needs ${pkg} to play ${kind === "hls" ? "HLS" : "DASH"}, and it is not installed: ${INSTALL}`);
      }
      return readFile(resolved, "utf8");
    })();
    script.catch(() => scripts.delete(kind));
    scripts.set(kind, script);
  }
  return script;
}

function isMissingModule(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

/** Start a headless Chromium, or throw PlayerUnavailable saying what is missing. */
export async function launchChromium(timeoutMs: number): Promise<Browser> {
  let playwright: typeof import("playwright-core");
  try {
    playwright = await import("playwright-core");
  } catch (err) {
    if (isMissingModule(err)) throw new PlayerUnavailable(`the player probe needs playwright-core, and it is not installed: ${INSTALL}`);
    throw err;
  }
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new PlayerUnavailable(`the player probe needs Chromium, and there is none at ${executablePath}: ${INSTALL}; or set CHAOSCAST_CHROMIUM to a Chromium or Chrome binary`);
  }
  return playwright.chromium.launch({
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: timeoutMs,
    // chaoscast turns signals into an abort of the run (which rolls back); playwright's own handlers
    // would exit the process first. The probe closes the browser itself when the run is aborted.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
}
