import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useProxyFixture } from "../helpers/proxy-fixture.js";
import { fetchStream, sha, STREAM_SIZE, startStreamServer, streamFor } from "../helpers/streams.js";

// The relay reads the upstream's bytes into buffers it reuses once they are written: every byte
// must still arrive unchanged and in order, with slow readers (backpressure), many connections at
// once, and toxics coming and going while data flows.

const fixture = useProxyFixture();
let upstream: Awaited<ReturnType<typeof startStreamServer>>;
beforeAll(async () => {
  upstream = await startStreamServer();
});
afterAll(() => upstream.close());

describe("bytes through the relay", () => {
  it("arrive unchanged on 12 connections at once, half of them read slowly", async () => {
    const link = await fixture.server.collection.create({ name: "integrity", upstream: `127.0.0.1:${upstream.port}` });
    const port = Number(link.listen.split(":").pop());
    const seeds = Array.from({ length: 12 }, (_, i) => i + 1);
    const received = await Promise.all(seeds.map((seed) => fetchStream(port, seed, seed % 2 === 0)));
    for (const [i, data] of received.entries()) {
      expect(data.length).toBe(STREAM_SIZE);
      expect(sha(data)).toBe(sha(streamFor(seeds[i]!)));
    }
  });

  it("arrive unchanged while a toxic is added and removed mid-stream", async () => {
    const link = await fixture.server.collection.create({ name: "integrity-toxic", upstream: `127.0.0.1:${upstream.port}` });
    const port = Number(link.listen.split(":").pop());
    const transfers = [101, 102, 103, 104].map((seed) => fetchStream(port, seed, true));
    // Toxics come and go while the bytes flow: the relay moves between its direct and queued paths.
    for (let i = 0; i < 6; i++) {
      link.addToxic({ name: "slice", type: "slicer", attributes: { average_size: 3000, size_variation: 1000, delay: 10 } });
      await new Promise((resolve) => setTimeout(resolve, 15));
      link.removeToxic("slice");
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    const received = await Promise.all(transfers);
    for (const [i, data] of received.entries()) expect(sha(data)).toBe(sha(streamFor([101, 102, 103, 104][i]!)));
  });
});
