// Where a fault's record lives in the cluster: a ConfigMap named chaoscast-fault-<id>, in its
// object's namespace (nodes': NODE_RECORDS_NAMESPACE). Chosen before the fault is made, so the local
// state file names it too.

import { randomBytes } from "node:crypto";
import { z } from "zod";

/** Nodes belong to no namespace; their faults' records are kept here. */
export const NODE_RECORDS_NAMESPACE = "default";

export interface RecordLocation {
  namespace: string;
  name: string;
}

export const RecordLocationSchema = z.object({ namespace: z.string().min(1).max(63), name: z.string().regex(/^chaoscast-fault-[0-9a-f]{20}$/) }).strict();

/** A record's place, chosen before the fault is made so the state file can name it. */
export function recordLocation(namespace: string | null): RecordLocation {
  return { namespace: namespace ?? NODE_RECORDS_NAMESPACE, name: `chaoscast-fault-${randomBytes(10).toString("hex")}` };
}

