import { describe, expect, it } from "vitest";
import { ViewerCohort } from "../../src/demo/viewer-cohort.js";

const tagged = (cohort?: string) => (cohort === undefined ? {} : { "x-chaoscast-cohort": cohort });

describe("the cohort a demo viewer's start counts in", () => {
  it("is none for a viewer the CDN never tagged", () => {
    const cohort = new ViewerCohort();
    cohort.beginStart();
    cohort.read(tagged());
    expect(cohort.start).toBe("none");
  });

  it("stays the experiment's when the tags are removed before the start fails", () => {
    const cohort = new ViewerCohort();
    cohort.beginStart();
    cohort.read(tagged("experiment"));
    cohort.read(tagged());
    expect(cohort.start).toBe("experiment");
  });

  it("is the cohort named during the start when the tags arrive midway", () => {
    const cohort = new ViewerCohort();
    cohort.beginStart();
    cohort.read(tagged());
    cohort.read(tagged("control"));
    expect(cohort.start).toBe("control");
  });

  it("is none for the next start once the CDN no longer names a cohort", () => {
    const cohort = new ViewerCohort();
    cohort.beginStart();
    cohort.read(tagged("experiment"));
    cohort.read(tagged());
    cohort.beginStart();
    cohort.read(tagged());
    expect(cohort.start).toBe("none");
  });

  it("counts a start that failed before any answer in the cohort named last", () => {
    const cohort = new ViewerCohort();
    cohort.beginStart();
    cohort.read(tagged("experiment"));
    cohort.beginStart();
    expect(cohort.start).toBe("experiment");
  });

  it("takes anything but the two cohorts' names as none", () => {
    const cohort = new ViewerCohort();
    cohort.beginStart();
    cohort.read(tagged("\u001b[31mred"));
    expect(cohort.start).toBe("none");
  });
});
