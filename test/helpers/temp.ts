// Temporary directories for tests that are removed when the test file ends, so a test run leaves
// nothing in /tmp. Every test file gets its own CHAOSCAST_DIR too (see setup.ts), so nothing a
// test runs writes to the real ~/.local/state/chaoscast.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const made: string[] = [];

/** A new empty directory under the system's temporary directory, removed after this test file. */
export function tempDir(prefix = "chaoscast-test-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * A fresh path in the temporary directory, not created: whoever needs it creates it, and it is
 * removed with the rest. A test file whose tests are all skipped (whose afterAll never runs) then
 * leaves nothing behind.
 */
export function tempPath(prefix = "chaoscast-test-"): string {
  const dir = path.join(tmpdir(), `${prefix}${randomBytes(6).toString("hex")}`);
  made.push(dir);
  return dir;
}

/** Remove every directory tempDir made (called once the test file is done). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A file still held by a process the test could not stop: nothing more to do here.
    }
  }
}
