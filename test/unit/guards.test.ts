// A Prometheus guard, against a local server answering as Prometheus's query API does: it trips
// while the alert fires, and when the answer cannot be had.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { trippedGuard, type Guard } from "../../src/engine/guards.js";

let server: http.Server;
let url: string;
let firing = false;
let kind = "vector";
const queries: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      queries.push(new URLSearchParams(body).get("query") ?? "");
      res.setHeader("content-type", "application/json");
      const result = firing ? [{ metric: { __name__: "ALERTS", alertname: "PlaybackStartsFailing", alertstate: "firing" }, value: [1, "1"] }] : [];
      res.end(JSON.stringify({ status: "success", data: { resultType: kind, result: kind === "vector" ? result : kind === "scalar" ? [1, "1"] : result } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
});

const guard = (u: string): Guard => ({ spec: { prometheus: { url: u, alert: "PlaybackStartsFailing", timeout: 2000 } }, source: ".chaoscast.yaml:3" });

describe("a Prometheus guard", () => {
  it("trips while its alert fires, asks for exactly that alert, and says no when Prometheus cannot answer", async () => {
    const signal = new AbortController().signal;
    firing = false;
    expect(await trippedGuard([guard(url)], signal)).toBeNull();
    expect(queries.at(-1)).toBe('ALERTS{alertstate="firing",alertname="PlaybackStartsFailing"}');
    firing = true;
    expect(await trippedGuard([guard(url)], signal)).toMatch(/^the alert PlaybackStartsFailing is firing in http:\/\/127\.0\.0\.1:\d+ \(\.chaoscast\.yaml:3\)$/);
    const closed = `http://127.0.0.1:1`;
    expect(await trippedGuard([guard(closed)], signal)).toMatch(/could not say whether PlaybackStartsFailing fires .*a guard that cannot be checked says no/);
  });
});

describe("guards as untrusted, fail-safe input", () => {
  it("say no when Prometheus answers anything but a vector", async () => {
    kind = "scalar";
    try {
      expect(await trippedGuard([guard(url)], new AbortController().signal)).toMatch(/answered a scalar, not a vector/);
    } finally {
      kind = "vector";
    }
  });

  it("never show the credentials or the query of a guard URL", async () => {
    const http: Guard = { spec: { http: { url: "http://user:s3cretpw@127.0.0.1:1/ok?token=abc123", timeout: 500 } }, source: "p" };
    const tripped = await trippedGuard([http], new AbortController().signal);
    expect(tripped).toMatch(/^the guard URL http:\/\/127\.0\.0\.1:1\/ok did not answer/);
    expect(tripped).not.toMatch(/s3cretpw|abc123|user/);
  });

  it("refuse a relative guard file and a timeout outside 100ms..60s", async () => {
    const { GuardSchema } = await import("../../src/policy/rules.js");
    expect(GuardSchema.safeParse({ file: "relative/STOP" }).success).toBe(false);
    expect(GuardSchema.safeParse({ file: "/srv/chaos/STOP" }).success).toBe(true);
    expect(GuardSchema.safeParse({ http: { url: "http://127.0.0.1:1/", timeout: "0s" } }).success).toBe(false);
  });
});
