// The `ec2` adapter: EC2 instances by id, filters, auto-scaling group or availability zone, through
// @aws-sdk/client-ec2 (loaded on first use), with faults recorded as tags on the instances.

import type { Adapter } from "../../contract/adapter.js";
import { azOutage, isolate, reboot, stop, terminate } from "./actions.js";
import { ec2Probe } from "./probe.js";
import { ec2Records } from "./records.js";
import { restoreGroupsRevert, startRevert } from "./reverts.js";
import { ec2Targets } from "./targets.js";

export const ec2Adapter: Adapter = {
  kind: "ec2",
  description: "AWS EC2 instances: stop, reboot, terminate, isolate, an availability-zone outage; an instance-state probe.",
  targets: ec2Targets,
  actions: [stop, reboot, terminate, isolate, azOutage],
  probes: [ec2Probe],
  reverts: [startRevert, restoreGroupsRevert],
  records: ec2Records,
};
