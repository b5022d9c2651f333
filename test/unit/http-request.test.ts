// What the one-request HTTP client does with a request Node refuses before sending: a plain
// HttpRequestError, and nothing left to fire later (once, a timer outlived the refusal and threw).

import { describe, expect, it } from "vitest";
import { httpRequest, HttpRequestError } from "../../src/util/http-request.js";
import { holdsFor } from "../helpers/poll.js";

const base = { method: "GET", headers: {}, signal: new AbortController().signal };

describe("httpRequest, given a request that cannot be sent", () => {
  it.each([
    ["a header name with a space", { url: "http://127.0.0.1:1/", headers: { "bad header": "x" }, timeoutMs: 50 }, /header name/i],
    ["a header value with a line break", { url: "http://127.0.0.1:1/", headers: { "x-a": "1\r\nx-b: 2" }, timeoutMs: 50 }, /header/i],
    ["a method with a line break", { url: "http://127.0.0.1:1/", method: "GET\r\nX: 1", timeoutMs: 50 }, /method/i],
    ["a file: URL", { url: "file:///etc/passwd", timeoutMs: 50 }, /only http: and https:/],
    ["text that is not a URL", { url: "not a url", timeoutMs: 50 }, /not a valid URL/],
    ["a timeout past what a timer can hold", { url: "http://127.0.0.1:1/", timeoutMs: 1e300 }, /out of range/],
    ["a negative timeout", { url: "http://127.0.0.1:1/", timeoutMs: -5 }, /out of range/],
  ])("rejects %s with an HttpRequestError", async (_name, request, message) => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on("uncaughtException", onUncaught);
    try {
      const error = await httpRequest({ ...base, ...request }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(HttpRequestError);
      expect((error as Error).message).toMatch(message);
      // Watched until well past the 50 ms timeout most of these requests had: nothing may fire and throw.
      await holdsFor(() => expect(uncaught).toEqual([]), 120, 10);
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });
});
