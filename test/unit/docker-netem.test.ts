import { describe, expect, it } from "vitest";
import { NetemParamsSchema, qdiscArguments, qdiscKind } from "../../src/adapters/docker/netem.js";

const parse = (input: Record<string, unknown>) => NetemParamsSchema.parse(input);
const problems = (input: Record<string, unknown>) => NetemParamsSchema.safeParse(input).error?.issues.map((i) => i.message) ?? [];

describe("docker.netem parameters", () => {
  it("uses netem for latency and loss, with jitter and rate in the same qdisc", () => {
    const params = parse({ latency: "200ms", jitter: "50ms", loss: "2%", rate: "4mbit" });
    expect(qdiscKind(params)).toBe("netem");
    expect(qdiscArguments(params, 1500)).toEqual(["netem", "delay", "200ms", "50ms", "loss", "2%", "rate", "4000000bit"]);
  });

  it("uses tbf for a rate alone, with a bucket that holds a whole packet of the device's MTU", () => {
    const params = parse({ rate: "500kbit" });
    expect(qdiscKind(params)).toBe("tbf");
    const args = qdiscArguments(params, 65536);
    expect(args.slice(0, 3)).toEqual(["tbf", "rate", "500000bit"]);
    expect(Number(args[args.indexOf("burst") + 1])).toBeGreaterThan(65536 + 14);
    // At a high rate the bucket holds 20 ms of traffic instead.
    const fast = qdiscArguments(parse({ rate: "1gbit" }), 1500);
    expect(Number(fast[fast.indexOf("burst") + 1])).toBe(1e9 / 8 / 50);
  });

  it("defaults to eth0 and a helper image, and explains what is wrong", () => {
    expect(parse({ loss: 5 })).toMatchObject({ device: "eth0", image: "gaiadocker/iproute2", loss: 5 });
    expect(problems({})).toContain("give latency, loss, rate or a combination");
    expect(problems({ jitter: "10ms", loss: 1 })).toContain("jitter needs a latency to vary");
    expect(problems({ rate: "2mbps" })[0]).toMatch(/expected a rate in bits per second/);
    expect(problems({ rate: "1kbit" })[0]).toMatch(/below 8kbit/);
    expect(problems({ loss: 0 })).toContain("expected a loss above 0%");
    expect(problems({ rate: "1mbit", device: "eth0; reboot" })[0]).toMatch(/network interface name/);
  });
});
