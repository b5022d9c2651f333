// The script each player's page runs: a muted <video> driven by hls.js or dash.js, and a record of
// what the viewer experienced, read from the player's and the media element's own events.

/**
 * What a page reports when asked (`window.__chaoscast.snapshot()`). Times are ms on the page's
 * clock from the moment the player was started; bitrates are kbit/s.
 */
export interface PageSnapshot {
  elapsedMs: number;
  /** When the media element first fired `playing`; null until then. */
  startupMs: number | null;
  /** Stalls after the start: `waiting` events, each ended by the next `playing`. */
  stalls: number;
  stallMs: number;
  /** Rendition changes as played (hls.js LEVEL_SWITCHED, dash.js QUALITY_CHANGE_RENDERED), the first one excepted. */
  switches: number;
  /** Media seconds played, and the same weighted by the playing rendition's declared bitrate. */
  playedSeconds: number;
  kbitSeconds: number;
  ratedSeconds: number;
  fragments: number;
  /** The error that stopped the player, if one did. */
  fatal: string | null;
  /** Non-fatal errors the player recovered from, first ones only. */
  errors: string[];
  errorCount: number;
  ended: boolean;
}

export interface PlayerConfig {
  kind: "hls" | "dash";
  url: string;
  hlsConfig: Record<string, number | boolean | string>;
}

/**
 * Plain browser JavaScript, loaded after hls.js or dash.js. It defines `window.__chaoscast` with
 * `start(config)` and `snapshot()`; nothing runs until `start`.
 */
export const HARNESS = `"use strict";
(function () {
  var MAX_ERRORS = 8;
  var video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.preload = "auto";
  document.body.appendChild(video);
  var t0 = 0;
  var s = { startupMs: null, stalls: 0, stallMs: 0, stallSince: null, switches: 0, rendition: null, kbps: null,
    playedSeconds: 0, kbitSeconds: 0, ratedSeconds: 0, lastTime: null, fragments: 0, fatal: null, errors: [], errorCount: 0, ended: false };
  var bitrateNow = function () { return s.kbps; };
  function now() { return performance.now() - t0; }
  function clip(text) { text = String(text); return text.length > 240 ? text.slice(0, 237) + "..." : text; }
  function note(message) {
    s.errorCount++;
    if (s.errors.length < MAX_ERRORS) s.errors.push(clip(message));
  }
  function fail(message) {
    if (s.fatal !== null) return;
    s.fatal = clip(message);
    endStall();
  }
  function endStall() {
    if (s.stallSince !== null) { s.stallMs += now() - s.stallSince; s.stallSince = null; }
  }
  function rendition(id, kbps) {
    if (s.rendition !== null && s.rendition !== id) s.switches++;
    s.rendition = id;
    s.kbps = kbps;
  }
  video.addEventListener("playing", function () {
    if (s.startupMs === null) { s.startupMs = now(); s.lastTime = video.currentTime; }
    endStall();
  });
  video.addEventListener("waiting", function () {
    if (s.startupMs === null || s.stallSince !== null || s.fatal !== null || video.ended) return;
    s.stalls++;
    s.stallSince = now();
  });
  video.addEventListener("timeupdate", function () {
    if (s.startupMs === null) return;
    var t = video.currentTime;
    var d = t - s.lastTime;
    s.lastTime = t;
    // Only forward play counts; a seek or a jump over a gap is not watching.
    if (!(d > 0 && d < 5)) return;
    s.playedSeconds += d;
    var kbps = bitrateNow();
    if (typeof kbps === "number" && kbps > 0) { s.kbitSeconds += d * kbps; s.ratedSeconds += d; }
  });
  video.addEventListener("ended", function () { s.ended = true; endStall(); });
  video.addEventListener("error", function () {
    var e = video.error;
    fail("media element error" + (e ? " " + e.code + (e.message ? ": " + e.message : "") : ""));
  });

  function startHls(config) {
    if (typeof Hls === "undefined" || !Hls.isSupported()) { fail("hls.js cannot play here (no Media Source Extensions)"); return; }
    var hls = new Hls(config.hlsConfig);
    bitrateNow = function () {
      if (s.kbps !== null) return s.kbps;
      var level = hls.levels && hls.levels[hls.currentLevel];
      return level ? level.bitrate / 1000 : null;
    };
    hls.on(Hls.Events.MANIFEST_PARSED, function () {
      var p = video.play();
      if (p && p.catch) p.catch(function (err) { note("play() refused: " + (err && err.message)); });
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, function (_event, data) {
      var level = hls.levels && hls.levels[data.level];
      rendition(data.level, level ? level.bitrate / 1000 : null);
    });
    hls.on(Hls.Events.FRAG_BUFFERED, function (_event, data) {
      if (data && data.frag && data.frag.type === "main") s.fragments++;
    });
    hls.on(Hls.Events.ERROR, function (_event, data) {
      var code = data.response && data.response.code;
      var url = (data.frag && data.frag.url) || data.url || (data.context && data.context.url) || "";
      var message = data.type + ": " + data.details + (code ? " (HTTP " + code + ")" : "") + (url ? " " + url : "") + (data.reason ? " - " + data.reason : "");
      if (data.fatal) { fail(message); hls.stopLoad(); } else note(message);
    });
    hls.loadSource(config.url);
    hls.attachMedia(video);
  }

  function startDash(config) {
    if (typeof dashjs === "undefined") { fail("dash.js is not loaded"); return; }
    var player = dashjs.MediaPlayer().create();
    var events = dashjs.MediaPlayer.events;
    bitrateNow = function () {
      if (s.kbps !== null) return s.kbps;
      var r = player.getCurrentRepresentationForType && player.getCurrentRepresentationForType("video");
      return r && r.bandwidth ? r.bandwidth / 1000 : null;
    };
    player.on(events.QUALITY_CHANGE_RENDERED, function (e) {
      if (e.mediaType !== "video") return;
      var r = e.newRepresentation;
      rendition(r ? r.id : null, r && r.bandwidth ? r.bandwidth / 1000 : null);
    });
    player.on(events.FRAGMENT_LOADING_COMPLETED, function (e) {
      if (e && e.request && e.request.mediaType === "video" && e.request.type === "MediaSegment") s.fragments++;
    });
    player.on(events.ERROR, function (e) {
      var err = e && e.error;
      var text = err && typeof err === "object" ? (err.code !== undefined ? err.code + ": " : "") + (err.message || "") : String(err);
      var detail = e && e.event ? (e.event.message || e.event.url || "") : "";
      // dash.js reports an error once it has given up (after its own retries).
      fail("dash.js error " + text + (detail ? " " + detail : ""));
    });
    player.on(events.PLAYBACK_ERROR, function (e) {
      fail("dash.js playback error" + (e && e.error ? ": " + (e.error.message || e.error) : ""));
    });
    player.initialize(video, config.url, true);
  }

  window.__chaoscast = {
    start: function (config) {
      t0 = performance.now();
      try {
        if (config.kind === "dash") startDash(config); else startHls(config);
      } catch (err) {
        fail("the player could not start: " + (err && err.message ? err.message : err));
      }
      return true;
    },
    snapshot: function () {
      var stallMs = s.stallMs + (s.stallSince !== null ? now() - s.stallSince : 0);
      return { elapsedMs: now(), startupMs: s.startupMs, stalls: s.stalls, stallMs: stallMs, switches: s.switches,
        playedSeconds: s.playedSeconds, kbitSeconds: s.kbitSeconds, ratedSeconds: s.ratedSeconds, fragments: s.fragments,
        fatal: s.fatal, errors: s.errors.slice(), errorCount: s.errorCount, ended: s.ended };
    },
  };
})();
`;
