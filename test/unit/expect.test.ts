import { describe, expect, it } from "vitest";
import { ExpectSyntaxError, judge, lookup, parseExpectation } from "../../src/contract/expect.js";

const check = (expectation: unknown, fields: Record<string, unknown>, primary = "value") =>
  judge(parseExpectation(expectation), fields, primary);
const passes = async (expectation: unknown, fields: Record<string, unknown>) => (await check(expectation, fields)).ok;

describe("the expect language", () => {
  it("compares numbers with every comparator", async () => {
    expect(await passes(">= 0.995", { value: 0.996 })).toBe(true);
    expect(await passes(">= 0.995", { value: 0.99 })).toBe(false);
    expect(await passes("< 500", { value: 499.9 })).toBe(true);
    expect(await passes("<= 500", { value: 500 })).toBe(true);
    expect(await passes("> 1", { value: 1 })).toBe(false);
    expect(await passes("== 200", { value: 200 })).toBe(true);
    expect(await passes("!= 200", { value: 200 })).toBe(false);
  });

  it("accepts inclusive ranges and rejects empty ones", async () => {
    expect(await passes("200..299", { value: 204 })).toBe(true);
    expect(await passes("200..299", { value: 300 })).toBe(false);
    expect(() => parseExpectation("300..200")).toThrow(ExpectSyntaxError);
  });

  it("reads HTTP status classes such as 2xx and 5xx as ranges", async () => {
    expect(await passes("2xx", { value: 204 })).toBe(true);
    expect(await passes("2xx", { value: 301 })).toBe(false);
    expect(await passes("5XX", { value: 503 })).toBe(true);
  });

  it("matches strings with regular expressions, flags included", async () => {
    expect(await passes("/^#EXTM3U/", { value: "#EXTM3U\n#EXT-X-VERSION:3" })).toBe(true);
    expect(await passes("/extm3u/i", { value: "#EXTM3U" })).toBe(true);
    expect(await passes("/^#EXTM3U/", { value: "<html>" })).toBe(false);
    expect(() => parseExpectation("/(unclosed/")).toThrow(/invalid regular expression/);
  });

  it("treats other scalars as literals", async () => {
    expect(await passes(true, { value: true })).toBe(true);
    expect(await passes(true, { value: false })).toBe(false);
    expect(await passes(200, { value: 200 })).toBe(true);
    expect(await passes("ok", { value: "ok" })).toBe(true);
    expect(await passes("ok", { value: "broken" })).toBe(false);
  });

  it("explains a comparator without a number", () => {
    expect(() => parseExpectation(">= fast")).toThrow(/needs a number/);
  });

  it("checks several fields and names each one that fails", async () => {
    const verdict = await check({ status: "200..299", latencyMs: "< 500" }, { status: 503, latencyMs: 712 });
    expect(verdict.ok).toBe(false);
    expect(verdict.failures).toEqual(['status 503 does not match "200..299"'.replace(/"/g, ""), "latencyMs 712 does not match < 500"]);
  });

  it("follows JSON paths inside nested fields", async () => {
    const fields = { json: { data: { items: [{ id: 7 }] }, status: "ok" } };
    expect(await passes({ json: { "data.items[0].id": ">= 7", status: "ok" } }, fields)).toBe(true);
    expect(await passes({ json: { "$.data.items[0].id": "< 7" } }, fields)).toBe(false);
  });

  it("reports a missing field as a failure, not a pass", async () => {
    const verdict = await check({ status: 200 }, {});
    expect(verdict.ok).toBe(false);
    expect(verdict.failures[0]).toMatch(/status is missing/);
  });

  it("prefers a key that exists as written over a path (header names contain dots)", () => {
    expect(lookup({ "x.cache": "HIT", x: { cache: "MISS" } }, "x.cache")).toBe("HIT");
  });

  it("never treats a non-number as satisfying a numeric comparison", async () => {
    expect(await passes("< 500", { value: "soon" })).toBe(false);
    expect(await passes("< 500", { value: null })).toBe(false);
  });
});

describe("numbers in failure messages", () => {
  it("are rounded to four significant digits, and never so far that the value would pass", async () => {
    const ratio = await judge(parseExpectation(">= 0.995"), { value: 0.7419354838709677 }, "value");
    expect(ratio.failures).toEqual(["value 0.7419 does not match >= 0.995"]);
    const close = await judge(parseExpectation(">= 0.995"), { value: 0.99499 }, "value");
    expect(close.failures).toEqual(["value 0.99499 does not match >= 0.995"]);
    const integer = await judge(parseExpectation("< 250"), { latencyMs: 1234 }, "latencyMs");
    expect(integer.failures).toEqual(["latencyMs 1234 does not match < 250"]);
  });
});
