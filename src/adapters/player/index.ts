// The `player` probe: N real players (hls.js, or dash.js for DASH) in a headless Chromium, playing
// a stream at once, and what their viewers experienced: how many started, how fast, stalls, bitrate.
// playwright-core, the player libraries and Chromium are optional, loaded only when a probe runs.

import { z } from "zod";
import { defineProbe, type Adapter, type Observation } from "../../contract/adapter.js";
import { DurationSchema, PositiveDurationSchema } from "../../contract/common-schemas.js";
import { errorMessage } from "../../errors.js";
import { abortMessage } from "../../util/abortable.js";
import { PlayerUnavailable } from "./browser.js";
import type { PlayerConfig } from "./harness.js";
import { watchPlayers, type SessionResult } from "./session.js";
import { summarize, summaryLine } from "./stats.js";

/** Room a run needs besides deadline and watch: starting Chromium, opening the pages, closing. */
const MIN_MARGIN_MS = 2000;
const DEFAULT_MARGIN_MS = 10_000;

const HlsSetting = z.union([z.number(), z.boolean(), z.string().max(200)]);

const Params = z
  .object({
    url: z.url({ protocol: /^https?$/ }).meta({ description: "The stream: an HLS playlist (master or media), or a DASH manifest (.mpd)." }),
    format: z
      .enum(["auto", "hls", "dash"])
      .default("auto")
      .meta({ description: "auto: DASH (dash.js) when the URL's path ends in .mpd, else HLS (hls.js)." }),
    players: z.int().min(1).max(50).default(3).meta({ description: "Players, each in a browser context of its own (no shared cache)." }),
    spread: DurationSchema.prefault("0s").meta({
      description: "Start the players one after another, evenly over this long, as an audience arrives (0s: all at once). Each player's deadline counts from its own start.",
    }),
    deadline: PositiveDurationSchema.prefault("5s").meta({ description: "A player counts as started when it is playing within this long." }),
    watch: PositiveDurationSchema.prefault("10s").meta({ description: "How long each player is watched once playing (a VOD that ends sooner ends the watch)." }),
    hlsConfig: z
      .record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, { error: "expected an hls.js setting name such as maxBufferLength" }), HlsSetting)
      .refine((config) => Object.keys(config).length <= 50, { message: "at most 50 hls.js settings" })
      .optional()
      .meta({ description: "hls.js settings to override, e.g. { maxBufferLength: 10, startLevel: 0 }: numbers, booleans and text only." }),
    timeout: DurationSchema.optional().meta({ description: "Give up on the whole observation after this long. Default: spread + deadline + watch + 10s." }),
  })
  .strict()
  .refine((p) => p.timeout === undefined || p.timeout >= p.spread + p.deadline + p.watch + MIN_MARGIN_MS, {
    message: `timeout must leave room for spread, deadline and watch, plus ${MIN_MARGIN_MS / 1000}s to start Chromium (leave it out for spread + deadline + watch + 10s)`,
    path: ["timeout"],
  })
  .refine((p) => p.hlsConfig === undefined || kindOf(p.url, p.format) === "hls", {
    message: "hlsConfig applies to HLS streams only; this one is played as DASH",
    path: ["hlsConfig"],
  })
  .transform((p) => ({ ...p, timeout: p.timeout ?? p.spread + p.deadline + p.watch + DEFAULT_MARGIN_MS }));

function kindOf(url: string, format: "auto" | "hls" | "dash"): "hls" | "dash" {
  if (format !== "auto") return format;
  return new URL(url).pathname.toLowerCase().endsWith(".mpd") ? "dash" : "hls";
}

export const playerProbe = defineProbe({
  name: "player",
  description: "Play a stream in N real players (hls.js, or dash.js for DASH) in headless Chromium: start success, startup time, rebuffering, bitrate.",
  params: Params,
  example: { url: "http://127.0.0.1:8080/vod/demo/master.m3u8", players: 3, deadline: "5s", watch: "10s" },
  primaryField: "startSuccess",
  fields: {
    startSuccess: "fraction of the players playing within the deadline, 0..1",
    started: "players playing within the deadline",
    players: "players started",
    startupMs: "median time from loading the stream to playing, of the players that started, ms",
    startupMsMax: "the slowest of those, ms",
    rebuffers: "stalls after the start (the video waiting for data), all players together",
    rebufferMs: "time spent stalled, all players together, ms",
    bitrateSwitches: "rendition changes while playing, all players together",
    meanBitrateKbps: "declared bitrate of the renditions played, weighted by time played, kbit/s",
    playedSeconds: "media time played, all players together, s",
    watchedMs: "the shortest watch of a player that started, ms (less than watch when the stream ended or the timeout cut it short)",
    fatalErrors: "players stopped by an error they could not recover from",
    nonFatalErrors: "errors that did not stop a player (a download retried or switched to another rendition, a gap skipped), all players together",
    errors: "the first few error messages: fatal ones and missed deadlines first, then the others",
  },
  defaultExpect: { startSuccess: 1, fatalErrors: 0 },
  timeoutOf: (params) => params.timeout,
  async run(params, ctx): Promise<Observation> {
    const started = performance.now();
    const config: PlayerConfig = { kind: kindOf(params.url, params.format), url: params.url, hlsConfig: params.hlsConfig ?? {} };
    let result: SessionResult;
    try {
      result = await watchPlayers({ config, players: params.players, spreadMs: params.spread, deadlineMs: params.deadline, watchMs: params.watch, signal: ctx.signal, endBy: started + ctx.timeoutMs });
    } catch (err) {
      if (err instanceof PlayerUnavailable) return { fields: {}, error: err.message, summary: "player unavailable" };
      if (ctx.signal.aborted) return { fields: {}, error: abortMessage(ctx.signal, ctx.timeoutMs), summary: "timeout" };
      return { fields: {}, error: `the players could not be started: ${errorMessage(err).split("\n")[0]}`, summary: "browser failed" };
    }
    const fields = summarize(result.outcomes, params.deadline);
    const tookMs = Math.round(performance.now() - started);
    const cut = result.cutShort ? ` (cut short after ${tookMs}ms by the probe's time limit)` : "";
    return { fields: { ...fields }, summary: `${summaryLine(fields)}${cut}` };
  },
});

export const playerAdapter: Adapter = {
  kind: "player",
  description: "Real players in headless Chromium (playwright-core with hls.js or dash.js): the player probe.",
  actions: [],
  probes: [playerProbe],
};
