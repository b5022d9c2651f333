// For the player probe's tests: whether real players can run here (playwright-core, hls.js and a
// Chromium), and a small breakable HTTP proxy in front of a stream server (every .ts segment 404s
// while it is broken), switched through its own admin endpoints as a fault would be.
//
//   const available = await playerAvailability();
//   describe.skipIf(!available)("…", () => { … });

import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { execa } from "execa";
import { chromiumPath } from "../../src/adapters/player/browser.js";

/**
 * Whether the player tests can run: playwright-core and hls.js are installed and Chromium runs.
 * Otherwise they skip with a note, unless CHAOSCAST_REQUIRE_SERVICES=1 (CI), where that is a failure.
 */
export async function playerAvailability(): Promise<boolean> {
  const unavailable = (why: string): false => {
    if (process.env.CHAOSCAST_REQUIRE_SERVICES === "1") throw new Error(`CHAOSCAST_REQUIRE_SERVICES=1 but ${why}`);
    process.stderr.write(`\n  skipped: player probe tests, ${why}.\n\n`);
    return false;
  };
  const require = createRequire(import.meta.url);
  for (const pkg of ["playwright-core", "hls.js"]) {
    try {
      require.resolve(pkg);
    } catch {
      return unavailable(`${pkg} is not installed (npm install playwright-core hls.js)`);
    }
  }
  const chromium = chromiumPath();
  try {
    await execa(chromium, ["--version"], { timeout: 15_000, stdin: "ignore" });
  } catch (err) {
    const detail = ((err as { stderr?: string }).stderr || (err as Error).message).trim().split("\n").at(-1);
    return unavailable(`${chromium} does not run (${detail}); install Debian's chromium package`);
  }
  return true;
}

/** Whether ffmpeg runs (to make a small DASH stream); the same rule for skipping. */
export async function ffmpegAvailability(): Promise<boolean> {
  try {
    await execa("ffmpeg", ["-version"], { timeout: 15_000, stdin: "ignore" });
    return true;
  } catch (err) {
    const why = `ffmpeg does not run (${(err as Error).message.split("\n")[0]}); install Debian's ffmpeg package`;
    if (process.env.CHAOSCAST_REQUIRE_SERVICES === "1") throw new Error(`CHAOSCAST_REQUIRE_SERVICES=1 but ${why}`);
    process.stderr.write(`\n  skipped: the player probe's DASH test, ${why}.\n\n`);
    return false;
  }
}

export interface BreakableProxy {
  /** http://127.0.0.1:PORT: the stream's URLs with this origin. */
  url: string;
  /** Segments (paths ending in .ts or .m4s) answered 404 while broken. */
  broken: boolean;
  /** Segment requests refused so far. */
  refused: number;
  /** performance.now() of each request for a master playlist (master.m3u8), in order. */
  masterRequests: number[];
  close(): Promise<void>;
}

/** A proxy to `upstream` that also answers POST /admin/break and POST /admin/repair. */
export async function startBreakableProxy(upstream: string): Promise<BreakableProxy> {
  const state = { broken: false, refused: 0 };
  const masterRequests: number[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    if (/\/master\.m3u8(\?|$)/.test(url)) masterRequests.push(performance.now());
    if (req.method === "POST" && (url === "/admin/break" || url === "/admin/repair")) {
      state.broken = url === "/admin/break";
      res.writeHead(204).end();
      return;
    }
    if (state.broken && /\.(ts|m4s)(\?|$)/.test(url)) {
      state.refused++;
      res.writeHead(404, { "content-type": "text/plain" }).end("segment withheld by the test's fault\n");
      return;
    }
    const forward = http.request(`${upstream}${url}`, { method: req.method, headers: { ...req.headers, host: new URL(upstream).host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get broken() {
      return state.broken;
    },
    set broken(value: boolean) {
      state.broken = value;
    },
    get refused() {
      return state.refused;
    },
    masterRequests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
