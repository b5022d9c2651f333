// The record of one fault applied to one target, kept from before the injection (write-ahead)
// until it is reverted.

import type { TargetRef } from "./events.js";
import type { Revert } from "./types.js";

export interface InjectedFault {
  fault: string;
  action: string;
  target: TargetRef | null;
  revert: Revert | null;
  state: "injecting" | "injected" | "reverted" | "revert-failed";
}
