// Agreement: do the demo's synthetic viewers feel a fault the way real players do? The same faults
// are put on the demo's player-edge link, first for synthetic viewer sessions (src/demo/hls-viewer.ts)
// and then for real hls.js players in headless Chromium (the player probe), one after the other, and
// both are judged the same way: started (playing) within 5 s, rebuffering, and the bitrate played
// against the clean stream's. Needs Chromium, playwright-core and hls.js (the player probe's needs).

import { setMaxListeners } from "node:events";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const name = "agreement";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEADLINE_MS = 5000;
/**
 * Both sides' viewers arrive one after another over this long, as an audience does. Ten browsers
 * started in the same instant on a small machine spend their first seconds competing for its
 * cores (median startup 1.8 s on 2 cores, against 0.3 s for one player alone), and that is the
 * machine's doing, not the stream's.
 */
const SPREAD_MS = 5000;
/** The aim: real and synthetic start success within this of each other, in every scenario. */
const AIM_DIFFERENCE = 0.1;
/**
 * A mean bitrate within this share of the same side's clean figure counts as unchanged: above the
 * run-to-run variation of a clean stream (about ±3% for 2 × 10 real players), below what a fault does.
 */
const SAME_BITRATE = 0.05;

const SEGMENTS = "**/*.ts";
/** A side left out with --side (its figures show as "-"). */
const NOT_RUN = { players: 0, started: 0, startSuccess: Number.NaN, startupMsMedian: null, rebuffersPerPlayer: "-", rebufferMsPerPlayer: null, switchesPerPlayer: null, meanKbps: null, fatal: 0 };

/**
 * The faults compared. `at` delays the fault until the viewers have had time to climb to the top
 * rendition; otherwise it is on before they start. Rates are KB/s (1000 bytes) per response.
 */
const SCENARIOS = [
  { id: "clean", label: "clean VOD", stream: "vod", watchMs: 15_000, toxics: [] },
  { id: "503", label: "30% of segments 503", stream: "vod", watchMs: 20_000, toxics: [{ type: "http_error", attributes: { status: 503, percent: 30, path: SEGMENTS } }] },
  { id: "404", label: "30% of segments 404", stream: "vod", watchMs: 20_000, toxics: [{ type: "http_error", attributes: { status: 404, percent: 30, path: SEGMENTS } }] },
  { id: "latency", label: "+1500 ms on segments", stream: "vod", watchMs: 20_000, toxics: [{ type: "http_latency", attributes: { latency: 1500, path: SEGMENTS } }] },
  { id: "throttle", label: "500 kbit/s after the climb", stream: "vod", watchMs: 30_000, at: 12_000, toxics: [{ type: "http_bandwidth", attributes: { rate: 62, path: SEGMENTS } }] },
  // hls.js holds a whole VOD this small (maxBufferSize), so the throttle above meets a full buffer;
  // a live player holds about 6 s and must come down or stall.
  { id: "throttle-live", label: "500 kbit/s after the climb, live", stream: "live", watchMs: 30_000, at: 12_000, toxics: [{ type: "http_bandwidth", attributes: { rate: 62, path: SEGMENTS } }] },
  { id: "404-all", label: "every segment 404", stream: "vod", watchMs: 8000, toxics: [{ type: "http_error", attributes: { status: 404, path: SEGMENTS } }] },
  { id: "live", label: "live channel, clean", stream: "live", watchMs: 20_000, toxics: [] },
];

export async function run({ quick, signal, log, only, side = "both" }) {
  const { startStack } = await import(path.join(ROOT, "dist/demo/stack.js"));
  const { playSession } = side === "real" ? {} : await import(path.join(ROOT, "dist/demo/hls-viewer.js"));
  const { playerProbe } = await import(path.join(ROOT, "dist/adapters/player/index.js"));
  const sizes = quick ? { sessions: 20, players: 3, playerRuns: 1 } : { sessions: 200, players: 10, playerRuns: 2 };
  const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.id)).map((s) => (quick ? { ...s, watchMs: Math.min(s.watchMs, 10_000), at: s.at && 6000 } : s));

  const stack = await startStack({ viewers: 0 });
  try {
    const link = stack.proxy.collection.get("player-edge");
    const urlOf = (stream) => `${stack.vars.cdn}/${stream}/demo/master.m3u8`;
    const results = [];
    for (const scenario of scenarios) {
      const withFault = (body) => withToxics(link, scenario, body);
      let synthetic = { ...NOT_RUN };
      if (side !== "real") {
        log(`agreement: ${scenario.label}: ${sizes.sessions} synthetic sessions …`);
        synthetic = await withFault(() => syntheticSessions(playSession, urlOf(scenario.stream), sizes.sessions, scenario.watchMs, signal));
      }
      let real = { ...NOT_RUN };
      if (side !== "synthetic") {
        log(`agreement: ${scenario.label}: ${sizes.playerRuns} × ${sizes.players} real players …`);
        const runs = [];
        for (let i = 0; i < sizes.playerRuns; i++) runs.push(await withFault(() => realPlayers(playerProbe, urlOf(scenario.stream), sizes.players, scenario.watchMs, signal)));
        real = mergePlayerRuns(runs);
      }
      results.push({ id: scenario.id, label: scenario.label, synthetic, real, difference: round2(Math.abs(synthetic.startSuccess - real.startSuccess)) });
      log(`agreement: ${scenario.label}: synthetic ${synthetic.startSuccess}, real ${real.startSuccess}`);
      if (signal.aborted) throw signal.reason;
    }
    // Each scenario against the clean run of its own stream: live and VOD play at different rates.
    const cleanOf = { vod: results.find((r) => r.id === "clean"), live: results.find((r) => r.id === "live") };
    for (const r of results) {
      const clean = cleanOf[SCENARIOS.find((s) => s.id === r.id).stream];
      r.synthetic.direction = direction(r.synthetic.meanKbps, clean?.synthetic.meanKbps);
      r.real.direction = direction(r.real.meanKbps, clean?.real.meanKbps);
      r.sameDirection = r.synthetic.direction === r.real.direction;
      r.withinAim = r.difference <= AIM_DIFFERENCE;
    }
    return { deadlineMs: DEADLINE_MS, spreadMs: SPREAD_MS, aimDifference: AIM_DIFFERENCE, ...sizes, scenarios: results, allWithinAim: results.every((r) => r.withinAim), allSameDirection: results.every((r) => r.sameDirection) };
  } finally {
    await stack.stop();
  }
}

/** Runs `body` with the scenario's toxics on the link (from the start, or `at` ms in), and always removes them. */
async function withToxics(link, scenario, body) {
  const names = scenario.toxics.map((_t, i) => `agreement-${scenario.id}-${i}`);
  const add = () => {
    for (const [i, t] of scenario.toxics.entries()) link.addToxic({ name: names[i], type: t.type, attributes: t.attributes });
  };
  let timer;
  if (scenario.at) timer = setTimeout(add, scenario.at);
  else add();
  try {
    return await body();
  } finally {
    clearTimeout(timer);
    for (const n of names) {
      try {
        link.removeToxic(n);
      } catch {
        // never added (the body ended before `at`)
      }
    }
  }
}

async function syntheticSessions(playSession, url, count, watchMs, signal) {
  // Each session listens to the bench's signal while it runs: one listener per session, not a leak.
  setMaxListeners(count + 10, signal);
  const outcomes = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
      return sleep((i * SPREAD_MS) / count, signal)
        .then(() => playSession({ url, deadlineMs: DEADLINE_MS, watchMs, signal, agent, headers: { "x-viewer-id": `agreement-${i}` } }))
        .finally(() => agent.destroy());
    }),
  );
  const started = outcomes.filter((o) => o.started);
  const played = outcomes.reduce((sum, o) => sum + o.playedMs, 0);
  return {
    players: outcomes.length,
    started: started.length,
    startSuccess: round2(started.length / outcomes.length),
    startupMsMedian: median(started.map((o) => o.startupMs)),
    rebuffersPerPlayer: round2(outcomes.reduce((s, o) => s + o.rebuffers, 0) / outcomes.length),
    rebufferMsPerPlayer: Math.round(outcomes.reduce((s, o) => s + o.rebufferMs, 0) / outcomes.length),
    switchesPerPlayer: round2(outcomes.reduce((s, o) => s + o.switches, 0) / outcomes.length),
    meanKbps: played > 0 ? Math.round(outcomes.reduce((s, o) => s + (o.meanKbps ?? 0) * o.playedMs, 0) / played) : null,
    fatal: outcomes.filter((o) => o.fatal).length,
  };
}

async function realPlayers(playerProbe, url, players, watchMs, signal) {
  const params = playerProbe.params.parse({ url, players, spread: `${SPREAD_MS}ms`, deadline: `${DEADLINE_MS}ms`, watch: `${watchMs}ms` });
  const obs = await playerProbe.run(params, { signal, timeoutMs: playerProbe.timeoutOf(params) });
  if (obs.error && obs.fields.players === undefined) throw new Error(`the player probe could not run: ${obs.error}`);
  return obs.fields;
}

function mergePlayerRuns(runs) {
  const sum = (key) => runs.reduce((s, r) => s + (r[key] ?? 0), 0);
  const players = sum("players");
  const playedSeconds = sum("playedSeconds");
  return {
    players,
    started: sum("started"),
    startSuccess: round2(sum("started") / players),
    startupMsMedian: median(runs.map((r) => r.startupMs).filter((v) => typeof v === "number")),
    rebuffersPerPlayer: round2(sum("rebuffers") / players),
    rebufferMsPerPlayer: Math.round(sum("rebufferMs") / players),
    switchesPerPlayer: round2(sum("bitrateSwitches") / players),
    meanKbps: playedSeconds > 0 ? Math.round(runs.reduce((s, r) => s + (r.meanBitrateKbps ?? 0) * (r.playedSeconds ?? 0), 0) / playedSeconds) : null,
    fatal: sum("fatalErrors"),
  };
}

function direction(kbps, cleanKbps) {
  if (kbps === null || kbps === undefined || !cleanKbps) return "none";
  if (kbps < cleanKbps * (1 - SAME_BITRATE)) return "down";
  if (kbps > cleanKbps * (1 + SAME_BITRATE)) return "up";
  return "same";
}

const round2 = (n) => Math.round(n * 100) / 100;

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}

function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor((sorted.length - 1) / 2)]);
}

export function format(r) {
  const head = `start success within ${r.deadlineMs / 1000} s: ${r.sessions} synthetic sessions and ${r.playerRuns} × ${r.players} real hls.js players per scenario, each side arriving over ${r.spreadMs / 1000} s\n`;
  const cols = ["scenario", "synthetic", "real", "diff", "ok", "kbps syn→real", "direction", "stalls/player syn·real (stalled ms)", "startup ms syn·real"];
  const rows = r.scenarios.map((s) => [
    s.label,
    s.synthetic.startSuccess.toFixed(2),
    s.real.startSuccess.toFixed(2),
    s.difference.toFixed(2),
    s.withinAim ? "yes" : "NO",
    `${s.synthetic.meanKbps ?? "-"} / ${s.real.meanKbps ?? "-"}`,
    `${s.synthetic.direction} / ${s.real.direction}${s.sameDirection ? "" : " (differ)"}`,
    `${s.synthetic.rebuffersPerPlayer} · ${s.real.rebuffersPerPlayer} (${s.synthetic.rebufferMsPerPlayer ?? "-"} · ${s.real.rebufferMsPerPlayer ?? "-"} ms)`,
    `${s.synthetic.startupMsMedian ?? "-"} · ${s.real.startupMsMedian ?? "-"}`,
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const verdict = `every difference ≤ ${r.aimDifference}: ${r.allWithinAim ? "yes" : "no"}; same bitrate direction everywhere: ${r.allSameDirection ? "yes" : "no"}`;
  return `${head}${[line(cols), ...rows.map(line)].join("\n")}\n${verdict}`;
}

// `node bench/agreement.js [--quick] [scenario ids…]` runs this benchmark alone.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  // --side real|synthetic: run one side only (to look at one model's figures).
  const side = args.find((a) => a.startsWith("--side="))?.slice("--side=".length) ?? "both";
  const only = args.filter((a) => !a.startsWith("--"));
  const controller = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => controller.abort(new Error(`interrupted (${sig})`)));
  const result = await run({ quick, signal: controller.signal, log: (l) => process.stderr.write(`${l}\n`), only: only.length ? only : undefined, side });
  process.stdout.write(`${format(result)}\n`);
}
