// The cmcd probe against the embedded demo stack: its synthetic viewers send CMCD through the
// player-edge link of the fault proxy, and the probe reads their sessions back from the proxy.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cmcdProbe } from "../../src/adapters/proxy/cmcd-probe.js";
import { startStack, type Stack } from "../../src/demo/stack.js";
import { pollUntil } from "../helpers/poll.js";

describe("the cmcd probe on the demo stack", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ viewers: 12 });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const observe = (params: Record<string, unknown> = {}) =>
    cmcdProbe.run(cmcdProbe.params.parse({ api: stack.vars.proxy_api, proxy: "player-edge", window: "30s", ...params }), { signal: new AbortController().signal, timeoutMs: 2000 });

  it("sees the viewers' sessions, their starts and what they report, with no start failing", async () => {
    let seen: Awaited<ReturnType<typeof observe>> | undefined;
    await pollUntil(async () => {
      seen = await observe();
      return (seen.fields.sessions as number) >= 10 && (seen.fields.starts as number) >= 5;
    }, 30_000, "CMCD sessions seen on player-edge");
    expect(seen!.error).toBeUndefined();
    expect(seen!.fields).toMatchObject({ videoStartFailureRate: 0, startFailures: 0, errorResponses: 0 });
    expect(seen!.fields.startupMsMedian).toBeGreaterThan(0);
    expect(seen!.fields.bitrateKbpsMean).toBeGreaterThan(0);
    expect(seen!.summary).toMatch(/\d+ sessions, VSF 0\.0%/);
  });

  it("fails the check, saying why, on a link that is not HTTP or does not exist", async () => {
    const missing = await observe({ proxy: "no-such-link" });
    expect(missing.error).toMatch(/has no link named no-such-link/);
    const tcp = await observe({ proxy: "api-payment" });
    expect(tcp.error).toMatch(/not an HTTP link: CMCD is read from the requests an HTTP link relays/);
  });
});
