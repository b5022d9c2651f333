import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // End-to-end tests start real servers and run the built CLI; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Most files wait on real processes, servers and clusters rather than compute, and vitest's
    // default (one worker per core but one) runs them one at a time on a 2-core machine.
    maxWorkers: 3,
    setupFiles: ["test/helpers/setup.ts"],
  },
});
