// Every adapter chaoscast ships. Adding an adapter = one folder under adapters/ and one line here.

import { commandAdapter } from "./adapters/command/index.js";
import { dockerAdapter } from "./adapters/docker/index.js";
import { ec2Adapter } from "./adapters/ec2/index.js";
import { hlsAdapter } from "./adapters/hls/index.js";
import { httpAdapter } from "./adapters/http/index.js";
import { kubernetesAdapter } from "./adapters/kubernetes/index.js";
import { metricsAdapter } from "./adapters/metrics/index.js";
import { playerAdapter } from "./adapters/player/index.js";
import { prometheusAdapter } from "./adapters/prometheus/index.js";
import { processAdapter } from "./adapters/process/index.js";
import { proxyAdapter } from "./adapters/proxy/index.js";
import { tcpAdapter } from "./adapters/tcp/index.js";
import { viewersAdapter } from "./adapters/viewers/index.js";
import { RegistryView } from "./contract/registry-view.js";

export const adapters = [processAdapter, proxyAdapter, dockerAdapter, kubernetesAdapter, ec2Adapter, commandAdapter, httpAdapter, tcpAdapter, metricsAdapter, prometheusAdapter, hlsAdapter, playerAdapter, viewersAdapter] as const;

export const registry = new RegistryView(adapters);
