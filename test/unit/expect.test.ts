import { describe, expect, it } from "vitest";
import { ExpectSyntaxError, judge, lookup, parseExpectation } from "../../src/experiment/expect.js";

const check = (expectation: unknown, fields: Record<string, unknown>, primary = "value") =>
  judge(parseExpectation(expectation), fields, primary);

describe("the expect language", () => {
  it("compares numbers with every comparator", () => {
    expect(check(">= 0.995", { value: 0.996 }).ok).toBe(true);
    expect(check(">= 0.995", { value: 0.99 }).ok).toBe(false);
    expect(check("< 500", { value: 499.9 }).ok).toBe(true);
    expect(check("<= 500", { value: 500 }).ok).toBe(true);
    expect(check("> 1", { value: 1 }).ok).toBe(false);
    expect(check("== 200", { value: 200 }).ok).toBe(true);
    expect(check("!= 200", { value: 200 }).ok).toBe(false);
  });

  it("accepts inclusive ranges and rejects empty ones", () => {
    expect(check("200..299", { value: 204 }).ok).toBe(true);
    expect(check("200..299", { value: 300 }).ok).toBe(false);
    expect(() => parseExpectation("300..200")).toThrow(ExpectSyntaxError);
  });

  it("reads HTTP status classes such as 2xx and 5xx as ranges", () => {
    expect(check("2xx", { value: 204 }).ok).toBe(true);
    expect(check("2xx", { value: 301 }).ok).toBe(false);
    expect(check("5XX", { value: 503 }).ok).toBe(true);
  });

  it("matches strings with regular expressions, flags included", () => {
    expect(check("/^#EXTM3U/", { value: "#EXTM3U\n#EXT-X-VERSION:3" }).ok).toBe(true);
    expect(check("/extm3u/i", { value: "#EXTM3U" }).ok).toBe(true);
    expect(check("/^#EXTM3U/", { value: "<html>" }).ok).toBe(false);
    expect(() => parseExpectation("/(unclosed/")).toThrow(/invalid regular expression/);
  });

  it("treats other scalars as literals", () => {
    expect(check(true, { value: true }).ok).toBe(true);
    expect(check(true, { value: false }).ok).toBe(false);
    expect(check(200, { value: 200 }).ok).toBe(true);
    expect(check("ok", { value: "ok" }).ok).toBe(true);
    expect(check("ok", { value: "broken" }).ok).toBe(false);
  });

  it("explains a comparator without a number", () => {
    expect(() => parseExpectation(">= fast")).toThrow(/needs a number/);
  });

  it("checks several fields and names each one that fails", () => {
    const verdict = check({ status: "200..299", latencyMs: "< 500" }, { status: 503, latencyMs: 712 });
    expect(verdict.ok).toBe(false);
    expect(verdict.failures).toEqual(['status 503 does not match "200..299"'.replace(/"/g, ""), "latencyMs 712 does not match < 500"]);
  });

  it("follows JSON paths inside nested fields", () => {
    const fields = { json: { data: { items: [{ id: 7 }] }, status: "ok" } };
    expect(check({ json: { "data.items[0].id": ">= 7", status: "ok" } }, fields).ok).toBe(true);
    expect(check({ json: { "$.data.items[0].id": "< 7" } }, fields).ok).toBe(false);
  });

  it("reports a missing field as a failure, not a pass", () => {
    const verdict = check({ status: 200 }, {});
    expect(verdict.ok).toBe(false);
    expect(verdict.failures[0]).toMatch(/status is missing/);
  });

  it("prefers a key that exists as written over a path (header names contain dots)", () => {
    expect(lookup({ "x.cache": "HIT", x: { cache: "MISS" } }, "x.cache")).toBe("HIT");
  });

  it("never treats a non-number as satisfying a numeric comparison", () => {
    expect(check("< 500", { value: "soon" }).ok).toBe(false);
    expect(check("< 500", { value: null }).ok).toBe(false);
  });
});
