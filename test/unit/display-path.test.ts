import path from "node:path";
import { describe, expect, it } from "vitest";
import { displayPath } from "../../src/util/display-path.js";

describe("displayPath", () => {
  it("shows a file below the working directory relative to it", () => {
    expect(displayPath(path.join(process.cwd(), "experiments", "a.yaml"))).toBe(path.join("experiments", "a.yaml"));
    expect(displayPath("experiments/a.yaml")).toBe(path.join("experiments", "a.yaml"));
  });

  it("shows a file outside the working directory by its absolute path, never as ../..", () => {
    const outside = path.resolve(process.cwd(), "..", "elsewhere", "b.yaml");
    expect(displayPath(outside)).toBe(outside);
    expect(displayPath("../elsewhere/b.yaml")).toBe(outside);
  });

  it("keeps a name that merely starts with two dots below the working directory", () => {
    expect(displayPath("..hidden.yaml")).toBe("..hidden.yaml");
  });
});
