// viewers.surge on this machine: the demo's origin (its HLS ladder and live channel) in one child
// process, a crowd in another, as chaoscast runs it. At each crowd size: the viewers it keeps
// playing, requests/s and bytes/s over a hold after the ramp, and the ratios against 160 viewers
// (the demo's own audience), measured in the same run.

import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startChild } from "./children.js";

export const name = "surge";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BASELINE = 160;

/** One crowd of `viewers` on `url`: ramp, then hold; the figures of the hold's reports. */
async function measure(crowds, url, viewers, { rampMs, holdMs, signal }) {
  const token = `${viewers}`.padStart(32, "0");
  const reports = [];
  const config = { url, from: 0, to: viewers, rampMs, maxRequestsPerSecond: 10_000, maxDurationMs: rampMs + holdMs + 30_000, rendition: "random", timeoutMs: 5_000, thinkTimeMs: 1_000, headers: {} };
  const handle = await crowds.startCrowd(token, config, (progress) => reports.push(progress));
  try {
    const end = performance.now() + rampMs + holdMs;
    while (performance.now() < end && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    await handle.stop();
  }
  // The hold: reports after the ramp and the viewers' first buffer fill (one report a second).
  const hold = reports.filter((r) => r.elapsedMs >= rampMs + 5_000);
  const mean = (pick) => (hold.length ? hold.reduce((sum, r) => sum + pick(r), 0) / hold.length : 0);
  return {
    viewers,
    playing: Math.round(mean((r) => r.playing)),
    reqPerS: Math.round(mean((r) => r.requestsPerS)),
    mbPerS: Math.round(mean((r) => r.bytesPerS) / 1e5) / 10,
    errors: (hold.at(-1)?.errors ?? 0) - (hold[0]?.errors ?? 0),
    lagP99Ms: Math.max(0, ...hold.map((r) => r.lagMs)),
    peakReqPerS: handle.reached.peakRequestsPerS,
  };
}

export async function run({ quick, signal, log }) {
  const crowds = await import(pathToFileURL(path.join(ROOT, "dist/adapters/viewers/crowd-process.js")).href);
  const children = [];
  try {
    const script = `import { startOrigin } from ${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/demo/origin.js")).href)};
const origin = await startOrigin(0);
console.log(JSON.stringify({ url: origin.url }));`;
    const origin = await startChild(children, ["--input-type=module", "-e", script], (line) => JSON.parse(line).url);
    const sizes = quick ? [BASELINE, 800] : [BASELINE, 800, 1600];
    const timing = { rampMs: quick ? 3_000 : 10_000, holdMs: quick ? 8_000 : 20_000, signal };
    const rows = [];
    for (const url of [`${origin}/live/demo/master.m3u8`, `${origin}/vod/demo/master.m3u8`]) {
      for (const viewers of sizes) {
        if (signal.aborted) throw signal.reason;
        log(`surge: ${viewers} viewers on ${url.includes("/live/") ? "live" : "VOD"}…`);
        rows.push({ stream: url.includes("/live/") ? "live" : "vod", ...(await measure(crowds, url, viewers, timing)) });
      }
    }
    for (const row of rows) {
      const base = rows.find((r) => r.stream === row.stream && r.viewers === BASELINE);
      row.reqRatio = base?.reqPerS ? Math.round((row.reqPerS / base.reqPerS) * 100) / 100 : null;
      row.viewerRatio = row.viewers / BASELINE;
      // 1.0: requests grew as the viewers did; below, the crowd (or the server) fell behind.
      row.scaling = row.reqRatio === null ? null : Math.round((row.reqRatio / row.viewerRatio) * 100) / 100;
    }
    return { origin: "demo origin (own process)", rampMs: timing.rampMs, holdMs: timing.holdMs, rows };
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
}

export function format(result) {
  const lines = [`ramp ${result.rampMs / 1000} s then hold ${result.holdMs / 1000} s against the ${result.origin}; figures are means over the hold after its first 5 s`];
  lines.push("stream  viewers  playing  req/s  MB/s   errors  lag p99 ms  × viewers  × req/s  scaling");
  for (const r of result.rows) {
    lines.push(
      `${r.stream.padEnd(7)} ${String(r.viewers).padStart(7)}  ${String(r.playing).padStart(7)}  ${String(r.reqPerS).padStart(5)}  ${String(r.mbPerS).padStart(5)}  ${String(r.errors).padStart(6)}  ${String(r.lagP99Ms).padStart(10)}  ${r.viewerRatio.toFixed(1).padStart(9)}  ${String(r.reqRatio ?? "–").padStart(7)}  ${String(r.scaling ?? "–").padStart(7)}`,
    );
  }
  return lines.join("\n");
}
