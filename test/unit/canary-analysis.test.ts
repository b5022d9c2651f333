import { describe, expect, it } from "vitest";
import { parseExpectation } from "../../src/contract/expect.js";
import { assess, classify, compare, emptyTally, record, type MeasurementPhase } from "../../src/slo/analysis.js";

const limits = { count: 3, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4 };
const run = (phases: MeasurementPhase[], l = limits) => assess(phases.reduce(record, emptyTally()), l);
const both = { success: parseExpectation("<= 1.5"), failure: parseExpectation("> 3") };

describe("a canary measurement, as Argo Rollouts classifies it", () => {
  it("is Failed when the failure condition holds, checked before the success condition", async () => {
    expect(await classify(4, both)).toBe("Failed");
    expect(await classify(4, { success: parseExpectation("> 0"), failure: parseExpectation("> 3") })).toBe("Failed");
  });

  it("is Inconclusive when both conditions are given and neither holds", async () => {
    expect(await classify(2, both)).toBe("Inconclusive");
  });

  it("with one condition, is the other outcome when it does not hold", async () => {
    expect(await classify(2, { success: parseExpectation("<= 1.5"), failure: undefined })).toBe("Failed");
    expect(await classify(2, { success: undefined, failure: parseExpectation("> 3") })).toBe("Successful");
    expect(await classify(2, { success: undefined, failure: undefined })).toBe("Successful");
  });

  it("is an Error when there is no data (undefined or NaN)", async () => {
    expect(await classify(undefined, both)).toBe("Error");
    expect(await classify(Number.NaN, both)).toBe("Error");
  });
});

describe("a canary analysis, as Argo Rollouts decides it", () => {
  it("fails on the first failure past failureLimit (strictly more than the limit)", () => {
    expect(run(["Successful", "Failed"])).toBe("Failed");
    expect(run(["Successful", "Failed"], { ...limits, failureLimit: 1 })).toBe("Running");
    expect(run(["Failed", "Failed"], { ...limits, failureLimit: 1 })).toBe("Failed");
  });

  it("never fails on failures with failureLimit -1", () => {
    expect(run(["Failed", "Failed", "Failed"], { ...limits, failureLimit: -1 })).toBe("Successful");
  });

  it("is inconclusive past inconclusiveLimit, and that wins over a failure counted too", () => {
    expect(run(["Inconclusive"])).toBe("Inconclusive");
    expect(run(["Failed", "Inconclusive"])).toBe("Inconclusive");
  });

  it("errs on the fifth error in a row by default, and a non-error measurement resets the streak", () => {
    expect(run(["Error", "Error", "Error", "Error"])).toBe("Running");
    expect(run(["Error", "Error", "Error", "Error", "Error"])).toBe("Error");
    expect(run(["Error", "Error", "Error", "Error", "Successful", "Error", "Error"])).toBe("Running");
  });

  it("succeeds once count measurements stayed within the limits; errors do not count towards it", () => {
    expect(run(["Successful", "Successful"])).toBe("Running");
    expect(run(["Successful", "Error", "Successful"])).toBe("Running");
    expect(run(["Successful", "Error", "Successful", "Successful"])).toBe("Successful");
  });
});

describe("comparing a canary with its baseline", () => {
  it("divides or subtracts, and treats two zeros as the same", () => {
    expect(compare(0.05, 0.01, "ratio", true)).toBeCloseTo(5);
    expect(compare(0.05, 0.01, "difference", true)).toBeCloseTo(0.04);
    expect(compare(0, 0, "ratio", true)).toBe(1);
    expect(compare(0.01, 0, "ratio", true)).toBe(Number.POSITIVE_INFINITY);
  });

  it("has no value when either side has no data, and is the canary alone without a baseline", () => {
    expect(compare(undefined, 0.01, "ratio", true)).toBeUndefined();
    expect(compare(0.05, undefined, "ratio", true)).toBeUndefined();
    expect(compare(0.05, undefined, "ratio", false)).toBe(0.05);
  });
});

describe("an infinitely worse canary", () => {
  it("is above any failure threshold (a baseline with no errors against a canary with some)", async () => {
    expect(await classify(compare(0.05, 0, "ratio", true), both)).toBe("Failed");
  });
});
