// One observation: a fresh headless Chromium, one browser context (a viewer of its own: no shared
// cache or cookies) per player, started at once or spread over a while, watched until each has
// played long enough, failed or missed its deadline; then the browser is closed, whatever happened.

import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Browser, Page } from "playwright-core";
import { sleep } from "../../util/abortable.js";
import { launchChromium, playerLibrary } from "./browser.js";
import { HARNESS, type PageSnapshot, type PlayerConfig } from "./harness.js";
import { playerDone, type PlayerOutcome } from "./stats.js";

export interface SessionOptions {
  config: PlayerConfig;
  players: number;
  /** Player i starts i × spreadMs / players after the first. */
  spreadMs: number;
  deadlineMs: number;
  watchMs: number;
  signal: AbortSignal;
  /** performance.now() by which the observation must be over, browser closed. */
  endBy: number;
}

export interface SessionResult {
  outcomes: PlayerOutcome[];
  /** The observation was cut off by its time limit before every player was done. */
  cutShort: boolean;
}

const POLL_MS = 200;
/** Time kept back at the end for reading the pages and closing the browser. */
const CLOSE_RESERVE_MS = 1000;

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>chaoscast player</title></head><body><script src="player.js"></script><script src="harness.js"></script></body></html>`;

const SnapshotSchema = z.object({
  elapsedMs: z.number(),
  startupMs: z.number().nullable(),
  stalls: z.number(),
  stallMs: z.number(),
  switches: z.number(),
  playedSeconds: z.number(),
  kbitSeconds: z.number(),
  ratedSeconds: z.number(),
  fragments: z.number(),
  fatal: z.string().nullable(),
  errors: z.array(z.string()),
  errorCount: z.number(),
  ended: z.boolean(),
}) satisfies z.ZodType<PageSnapshot>;

/** The page is served at the stream's own origin (intercepted, never requested), so the manifest needs no CORS headers. */
function pageBase(url: string): string {
  return `${new URL(url).origin}/.chaoscast-player-${randomBytes(6).toString("hex")}/`;
}

async function openPlayer(browser: Browser, base: string, library: string): Promise<Page> {
  const context = await browser.newContext({ serviceWorkers: "block" });
  const page = await context.newPage();
  await page.route(`${base}**`, (route) => {
    const file = route.request().url().slice(base.length);
    if (file === "player.js") return route.fulfill({ status: 200, contentType: "text/javascript", body: library });
    if (file === "harness.js") return route.fulfill({ status: 200, contentType: "text/javascript", body: HARNESS });
    if (file === "index.html") return route.fulfill({ status: 200, contentType: "text/html", body: PAGE });
    return route.fulfill({ status: 404, body: "" });
  });
  // Scripts at the end of the body have run by DOMContentLoaded; nothing else on the page matters.
  await page.goto(`${base}index.html`, { waitUntil: "domcontentloaded" });
  return page;
}

async function snapshotOf(page: Page): Promise<PageSnapshot> {
  return SnapshotSchema.parse(await page.evaluate("window.__chaoscast.snapshot()"));
}

function describeLoss(err: unknown): string {
  const message = (err as Error).message ?? String(err);
  if (/crash/i.test(message)) return "the page crashed";
  if (/closed/i.test(message)) return "the page was closed";
  return `the page stopped answering: ${message.split("\n")[0]}`;
}

export async function watchPlayers(options: SessionOptions): Promise<SessionResult> {
  const { signal, endBy } = options;
  const kind = options.config.kind;
  const library = await playerLibrary(kind);
  const browser = await launchChromium(Math.max(1000, endBy - performance.now()));
  const closeOnAbort = () => void browser.close().catch(() => {});
  signal.addEventListener("abort", closeOnAbort, { once: true });
  try {
    if (signal.aborted) throw signal.reason;
    const base = pageBase(options.config.url);
    const pages = await Promise.all(Array.from({ length: options.players }, () => openPlayer(browser, base, library)));
    const start = `window.__chaoscast.start(${JSON.stringify(options.config)})`;
    // A player not yet started is not polled: its deadline counts from its own start.
    const started = pages.map(() => false);
    const startAt = performance.now();
    let allStarted = false;
    let startFailure: { error: unknown } | undefined;
    // Runs beside the polling loop below, which surfaces its failure.
    void (async () => {
      for (const [i, page] of pages.entries()) {
        const wait = startAt + (i * options.spreadMs) / pages.length - performance.now();
        if (wait > 0) await sleep(wait, signal);
        await page.evaluate(start);
        started[i] = true;
      }
    })().then(
      () => (allStarted = true),
      (error: unknown) => (startFailure = { error }),
    );

    const outcomes: (PlayerOutcome | undefined)[] = pages.map(() => undefined);
    const last: (PageSnapshot | undefined)[] = pages.map(() => undefined);
    const hardEnd = endBy - CLOSE_RESERVE_MS;
    let cutShort = false;
    for (;;) {
      await Promise.all(
        pages.map(async (page, i) => {
          if (outcomes[i] || !started[i]) return;
          try {
            const snapshot = await snapshotOf(page);
            last[i] = snapshot;
            if (playerDone(snapshot, options.deadlineMs, options.watchMs)) {
              outcomes[i] = { snapshot };
              // A player the probe is done with stops loading, so it does not compete with the others.
              void page.close().catch(() => {});
            }
          } catch (err) {
            if (!signal.aborted) outcomes[i] = { lost: describeLoss(err) };
          }
        }),
      );
      if (signal.aborted) throw signal.reason;
      if (startFailure) throw startFailure.error;
      if (allStarted && outcomes.every((o) => o !== undefined)) break;
      if (performance.now() + POLL_MS > hardEnd) {
        cutShort = true;
        break;
      }
      await sleep(POLL_MS, signal);
    }
    return { outcomes: outcomes.map((o, i) => o ?? (last[i] ? { snapshot: last[i]! } : { lost: "no report from the page in time" })), cutShort };
  } finally {
    signal.removeEventListener("abort", closeOnAbort);
    // Never wait long for a browser that will not close: playwright kills it after its own grace.
    const closed = browser.close().catch(() => {});
    await Promise.race([closed, sleep(Math.max(200, Math.min(CLOSE_RESERVE_MS, endBy - performance.now())))]);
  }
}
