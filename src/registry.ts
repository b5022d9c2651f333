// Every adapter chaoscast ships. Adding an adapter = one folder under adapters/ and one line here.

import { commandAdapter } from "./adapters/command/index.js";
import { httpAdapter } from "./adapters/http/index.js";
import { metricsAdapter } from "./adapters/metrics/index.js";
import { processAdapter } from "./adapters/process/index.js";
import { proxyAdapter } from "./adapters/proxy/index.js";
import { tcpAdapter } from "./adapters/tcp/index.js";
import { RegistryView } from "./engine/registry-view.js";

export const adapters = [processAdapter, proxyAdapter, commandAdapter, httpAdapter, tcpAdapter, metricsAdapter] as const;

export const registry = new RegistryView(adapters);
