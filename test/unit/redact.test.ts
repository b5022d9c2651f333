import { describe, expect, it } from "vitest";
import { makeRedactor, protectSecrets, restoreSecrets } from "../../src/engine/redact.js";

describe("secret scrubbing", () => {
  it("replaces every occurrence of a secret in nested strings and keys", () => {
    const redact = makeRedactor(["tok-12345"]);
    expect(redact({ a: "Bearer tok-12345", b: ["x tok-12345 y"], "tok-12345": 1 })).toEqual({ a: "Bearer ***", b: ["x *** y"], "***": 1 });
  });

  it("leaves text alone when there are no secrets or they are too short to scrub safely", () => {
    expect(makeRedactor([])({ a: "1" })).toEqual({ a: "1" });
    expect(makeRedactor(["1"])({ a: "port 18080" })).toEqual({ a: "port 18080" });
  });

  it("scrubs the longer secret first when one contains another", () => {
    expect(makeRedactor(["abcd", "abcdefgh"])("x abcdefgh y")).toBe("x *** y");
  });
});

describe("secrets in state files", () => {
  it("are written as ${env:NAME} placeholders and restored from the environment by rollback", () => {
    const env = { API_TOKEN: "s3cr3t-value", CHAOSCAST_VAR_token: "s3cr3t-value", OTHER: "x" };
    const used = new Set<string>();
    const data = { url: "http://127.0.0.1:8080/flags?token=s3cr3t-value", headers: { authorization: "Bearer s3cr3t-value" } };
    const stored = protectSecrets({ secrets: ["s3cr3t-value"] }, env)(data, used);
    expect(JSON.stringify(stored)).not.toContain("s3cr3t-value");
    expect(stored.headers.authorization).toBe("Bearer ${env:API_TOKEN}");
    expect([...used]).toEqual(["API_TOKEN"]);
    expect(restoreSecrets(stored, [...used], env)).toEqual(data);
  });

  it("make rollback name the variable it needs when it is not set", () => {
    expect(() => restoreSecrets({ h: "Bearer ${env:API_TOKEN}" }, ["API_TOKEN"], {})).toThrow(/API_TOKEN/);
  });
});
