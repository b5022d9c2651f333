// Writes schema/experiment.schema.json (npm run schema). A test fails when the checked-in copy is stale.

import { writeFileSync } from "node:fs";
import { registry } from "../registry.js";
import { experimentJsonSchema } from "../experiment/json-schema.js";

const target = new URL("../../schema/experiment.schema.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(experimentJsonSchema(registry), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
