// What a run and its watchdog say to each other over the IPC channel between them. The run is the
// watchdog's parent and the only one who can write to that channel; its messages are still checked,
// since the watchdog acts (SIGKILL, reverts) on what they say.

import { z } from "zod";
import type { RunEvent } from "../contract/events.js";
import { RunIdSchema } from "../contract/common-schemas.js";

/** The argument that names a watchdog process in `ps` (and tells it from anything else). */
export const WATCHDOG_ARGUMENT = "chaoscast-watchdog";

/** How often a run heart-beats; the hang bound must leave room for several beats. */
export const HEARTBEAT_MS = 250;
/** Default time without a heartbeat after which the run counts as frozen. */
export const DEFAULT_HANG_MS = 3_000;
/** Below this, an ordinary pause (a long GC, a loaded machine) could pass for a hang. */
export const MIN_HANG_MS = 1_000;

const OwnerSchema = z.object({ pid: z.int().min(2), startTime: z.string().nullable(), host: z.string() });

/** Where a run's journal goes: a file (written as given), or a directory (<runId>.json in it). */
export const JournalTargetSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("file"), path: z.string().min(1) }),
  z.object({ kind: z.literal("dir"), path: z.string().min(1) }),
]);
export type JournalTarget = z.output<typeof JournalTargetSchema>;

export const StartMessageSchema = z.object({
  type: z.literal("start"),
  /** The run: the watchdog's parent, identified by its start time too. */
  run: OwnerSchema,
  hangMs: z.int().min(MIN_HANG_MS),
  dirs: z.object({ chaoscast: z.string(), state: z.string(), locks: z.string(), runs: z.string() }),
});
export type StartMessage = z.output<typeof StartMessageSchema>;

export const RunMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("beat") }),
  /** A run is about to inject: its state file exists. Acknowledged with "armed". */
  z.object({
    type: z.literal("arm"),
    runId: RunIdSchema,
    stateFile: z.string(),
    journal: JournalTargetSchema,
    experiment: z.object({ display: z.unknown() }),
  }),
  /** One of the run's events (already redacted), kept for the journal the watchdog may write. */
  z.object({ type: z.literal("event"), runId: RunIdSchema, event: z.record(z.string(), z.unknown()) }),
  /** The run finished this experiment and wrote its journal: nothing of it is the watchdog's any more. */
  z.object({ type: z.literal("disarm"), runId: RunIdSchema }),
  /** The run is ending normally: the watchdog exits. */
  z.object({ type: z.literal("done") }),
]);
export type RunMessage = z.output<typeof RunMessageSchema>;

export type WatchdogMessage = { type: "ready"; pid: number } | { type: "armed"; runId: string } | { type: "refused"; problem: string };

export type ArmMessage = Extract<RunMessage, { type: "arm" }>;
export type ForwardedEvent = RunEvent;
