// The watchdog's record of what it did, one JSON line per run it took over, in chaoscast's own
// directory (watchdog.jsonl), where `chaoscast rollback` reads it back to say what happened while
// no one was at the keyboard. Read as untrusted input: bounded, typed, escaped before printing.

import { constants } from "node:fs";
import { open, rename, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { checkPrivateFile } from "../util/private-dir.js";
import { jsonNestsDeeperThan } from "../util/json-depth.js";
import { readRegularText } from "../util/safe-read.js";

export const WATCHDOG_LOG = "watchdog.jsonl";
/** Past this size the log is rotated to watchdog.jsonl.1 (one generation kept). */
const ROTATE_BYTES = 512 * 1024;

export const WatchdogRecordSchema = z.object({
  at: z.string().max(64),
  runId: z.string().max(200),
  experiment: z.object({ file: z.string().max(4096), title: z.string().max(1000) }),
  runPid: z.int(),
  reason: z.string().max(1000),
  reverted: z.array(z.string().max(1000)).max(1000),
  failed: z.array(z.string().max(1000)).max(1000),
  journal: z.string().max(4096).nullable(),
});
export type WatchdogRecord = z.output<typeof WatchdogRecordSchema>;

export function watchdogLogOf(chaoscastDir: string): string {
  return path.join(chaoscastDir, WATCHDOG_LOG);
}

/** Append one record (O_APPEND, never through a link, 0600). */
export async function appendWatchdogRecord(chaoscastDir: string, record: WatchdogRecord): Promise<void> {
  const file = watchdogLogOf(chaoscastDir);
  const size = await stat(file).then((s) => s.size, () => 0);
  if (size > ROTATE_BYTES) await rename(file, `${file}.1`).catch(() => {});
  const handle = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    if (!(await handle.stat()).isFile()) throw new Error(`${file} is not a regular file`);
    await handle.write(`${JSON.stringify(record)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The records newer than `sinceMs` ago, newest last. A log that is missing, not ours or unreadable
 * gives none; lines that are not records are skipped (the log is a report, not a source of actions).
 */
export async function recentWatchdogRecords(chaoscastDir: string, sinceMs: number, now = Date.now()): Promise<WatchdogRecord[]> {
  const file = watchdogLogOf(chaoscastDir);
  if (await checkPrivateFile(file)) return [];
  let text: string;
  try {
    text = await readRegularText(file, { maxBytes: 2 * ROTATE_BYTES, kind: "watchdog logs", noFollow: true });
  } catch {
    return [];
  }
  const records: WatchdogRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim() || jsonNestsDeeperThan(line, 16)) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = WatchdogRecordSchema.safeParse(json);
    if (!parsed.success) continue;
    const at = Date.parse(parsed.data.at);
    if (Number.isFinite(at) && now - at <= sinceMs) records.push(parsed.data);
  }
  return records;
}
