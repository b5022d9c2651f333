import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { abortMessage, combinedSignal, sleep } from "../../src/util/abortable.js";

// A real garbage collection, as a busy run gets: exposed for this test only.
v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

describe("combinedSignal", () => {
  it("still times out after a garbage collection, with nothing else holding its timer", async () => {
    const signal = combinedSignal([new AbortController().signal], 100);
    collectGarbage();
    await sleep(20);
    collectGarbage();
    await sleep(300);
    expect(signal.aborted).toBe(true);
    expect(abortMessage(signal, 100)).toBe("timed out after 100ms");
  });

  it("aborts with its input, and says it was cancelled", () => {
    const input = new AbortController();
    const signal = combinedSignal([input.signal], 60_000);
    input.abort();
    expect(signal.aborted).toBe(true);
    expect(abortMessage(signal, 60_000)).toBe("cancelled");
  });
});
