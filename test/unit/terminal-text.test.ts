import { describe, expect, it } from "vitest";
import { forTerminal, forTerminalDeep, forTerminalLines, hasUnsafeTerminalText, terminalSafeJson } from "../../src/util/terminal-text.js";

/** Nothing a terminal would act on: no C0/C1 control (tab aside), DEL, line or bidi control. */
const DRIVES_A_TERMINAL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

describe("text from outside on its way to a terminal", () => {
  it.each([
    ["a CSI sequence that clears the screen", "\x1b[2J\x1b[H", "\\e[2J\\e[H"],
    ["an OSC 8 hyperlink hiding where it points", "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\", "\\e]8;;https://evil.example/\\e\\click\\e]8;;\\e\\"],
    ["an OSC 52 write to the clipboard", "\x1b]52;c;Y3VybCBldmlsfHNo\x07", "\\e]52;c;Y3VybCBldmlsfHNo\\u0007"],
    ["a lone C1 CSI (0x9B)", "\x9b31mred", "\\u009b31mred"],
    ["a right-to-left override", "file\u202Etxt.exe", "file\\u202etxt.exe"],
    ["a left-to-right isolate", "a\u2066b\u2069c", "a\\u2066b\\u2069c"],
    ["a Unicode line separator", "one\u2028two", "one\\u2028two"],
    ["a carriage return that would overwrite the line", "ok\rFAILED", "ok\\rFAILED"],
    ["a line feed that would forge a line", "ok\nPASSED (exit 0)", "ok\\nPASSED (exit 0)"],
  ])("escapes %s", (_what, text, shown) => {
    expect(forTerminal(text)).toBe(shown);
    expect(forTerminal(text)).not.toMatch(DRIVES_A_TERMINAL);
    expect(hasUnsafeTerminalText(text)).toBe(true);
  });

  it("escapes invisible characters that make one name look like another or hide text in it", () => {
    expect(forTerminal("ed\u200Bge")).toBe("ed\\u200bge");
    expect(forTerminal("\uFEFFedge\u2060")).toBe("\\ufeffedge\\u2060");
    // Tag characters spell hidden ASCII after a visible word.
    expect(forTerminal("ok\u{E0041}\u{E0042}")).toBe("ok\\udb40\\udc41\\udb40\\udc42");
    expect(terminalSafeJson("ed\u200Bge\u{E0041}")).toBe('"ed\\u200bge\\udb40\\udc41"');
    expect(JSON.parse(terminalSafeJson("ed\u200Bge\u{E0041}"))).toBe("ed\u200Bge\u{E0041}");
  });

  it("leaves ordinary text, tabs, accents and emoji (joiners included) as they are", () => {
    const text = "Edge café\tlatency 🔥 👨‍👩‍👧 ≥ 99.5%";
    expect(forTerminal(text)).toBe(text);
    expect(hasUnsafeTerminalText(text)).toBe(false);
  });

  it("keeps the line breaks of multi-line text chaoscast composed, escaping what is inside each line", () => {
    expect(forTerminalLines("first: \x1b[31mred\nsecond\r\n\u202Ethird")).toBe("first: \\e[31mred\nsecond\\r\n\\u202ethird");
  });

  it("escapes every string of a value, keys included, and nothing else", () => {
    expect(forTerminalDeep({ title: "a\x1b[2J", n: 3, list: ["b\nc", null], "k\u202E": true })).toEqual({ title: "a\\e[2J", n: 3, list: ["b\\nc", null], "k\\u202e": true });
  });

  it("writes JSON a terminal cannot be driven by, that still parses to the same value", () => {
    const value = { t: "\x1b[2J\x9b\u2028\u202E\x7f" };
    const json = terminalSafeJson(value, 2);
    // Its own line breaks (indentation) aside.
    expect(json.replaceAll("\n", "")).not.toMatch(DRIVES_A_TERMINAL);
    expect(JSON.parse(json)).toEqual(value);
  });
});
