import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../src/demo/stack.js";
import { parseMetrics } from "../../src/adapters/metrics/parse.js";
import { eventually } from "../helpers/poll.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ viewers: 8 });
});
afterAll(async () => {
  await stack.stop();
});

async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const samples = parseMetrics(await (await fetch(url)).text());
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

describe("the embedded OTT stack", () => {
  it("boots, and its viewers start playback and keep playing", async () => {
    const url = stack.vars.viewers_metrics!;
    const successes = await eventually(() => metric(url, "playback_start_success_total"), (n) => n >= 8, 15_000, 250);
    expect(successes).toBeGreaterThanOrEqual(8);
    expect(await metric(url, "playback_start_attempts_total")).toBeGreaterThanOrEqual(successes);
    expect(await metric(url, "viewer_bitrate_bps")).toBeGreaterThan(0);
  });

  it("keeps issuing playback sessions while the payment service is unreachable", async () => {
    const link = stack.proxy.collection.get("api-payment");
    const before = await metric(stack.vars.api_metrics!, "entitlement_checks_total", { source: "fallback" });
    await link.stop();
    try {
      const res = await fetch(`${stack.vars.playback_api}/session/vod`, { method: "POST", headers: { "x-viewer-id": "new-user-1" } });
      expect(res.status).toBe(200);
      expect(await metric(stack.vars.api_metrics!, "entitlement_checks_total", { source: "fallback" })).toBeGreaterThan(before);
    } finally {
      await link.start();
    }
  });

  it("counts segment errors when segments fail at the edge", async () => {
    const link = stack.proxy.collection.get("player-edge");
    const before = await metric(stack.vars.viewers_metrics!, "segment_errors_total");
    link.addToxic({ name: "fail-segments", type: "http_error", attributes: { path: "**/*.ts", status: 503, percent: 50 } });
    try {
      const after = await eventually(() => metric(stack.vars.viewers_metrics!, "segment_errors_total"), (n) => n > before, 10_000, 250);
      expect(after).toBeGreaterThan(before);
    } finally {
      link.removeToxic("fail-segments");
    }
  });
});
