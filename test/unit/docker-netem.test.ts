import { describe, expect, it } from "vitest";
import { NetemParamsSchema, parseInterfaces, parseRootQdisc, qdiscArguments, qdiscKind, shapingHandle } from "../../src/adapters/docker/netem.js";

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
    expect(problems({ rate: "2mbps" })[0]).toBe('expected a rate in bits per second such as "500kbit", "2mbit" or "1gbit"; to tc "2mbps" means 2 megabytes per second, which is 16mbit');
    expect(problems({ rate: "1kbit" })[0]).toMatch(/below 8kbit/);
    expect(problems({ loss: 0 })).toContain("expected a loss above 0%");
    expect(problems({ rate: "1mbit", device: "eth0; reboot" })[0]).toMatch(/network interface name/);
  });
});

describe("reading tc and ip", () => {
  it("finds the root qdisc in tc's text output, whatever iproute2 printed it", () => {
    expect(parseRootQdisc("qdisc noqueue 0: root refcnt 2 \n")).toEqual({ kind: "noqueue", handle: "0:" });
    expect(parseRootQdisc("qdisc tbf 1f3a: root refcnt 3 rate 1Mbit burst 66560b lat 400ms \nqdisc ingress ffff: parent ffff:fff1 ----------------\n")).toEqual({ kind: "tbf", handle: "1f3a:" });
    expect(parseRootQdisc("qdisc mq 0: root \nqdisc fq_codel 0: parent :1 limit 10240p")).toEqual({ kind: "mq", handle: "0:" });
    expect(parseRootQdisc("")).toBeUndefined();
  });

  it("lists interfaces and their MTUs from ip -o link, veth peers included", () => {
    const text = [
      "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
      "48: eth0@if49: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \\    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0",
    ].join("\n");
    expect(parseInterfaces(text)).toEqual([
      { ifname: "lo", mtu: 65536 },
      { ifname: "eth0", mtu: 1500 },
    ]);
  });

  it("makes a four-digit handle of its own for each fault", () => {
    const handles = new Set(Array.from({ length: 200 }, () => shapingHandle()));
    for (const h of handles) expect(h).toMatch(/^[1-9a-f][0-9a-f]{3}:$/);
    expect(handles.size).toBeGreaterThan(150);
  });
});
