// `viewers` targets: { viewers: { url } }, the stream (or any HTTP URL) a synthetic crowd watches.
// One target per block; nothing is asked of the network to resolve it.

import { z } from "zod";
import { defineTargets } from "../../contract/adapter.js";

export const ViewersSelectorSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }).meta({ description: "What the crowd watches: an HLS master or media playlist, or any HTTP(S) URL (fetched again and again)." }),
  })
  .strict();

export interface ViewersData {
  url: string;
}

export const viewersTargets = defineTargets({
  selector: ViewersSelectorSchema,
  describe: (selector) => `synthetic viewers of ${selector.url}`,
  async resolve(selector) {
    const data: ViewersData = { url: selector.url };
    return [{ id: `viewers:${selector.url}`, label: selector.url, kind: "viewers", data: { ...data } }];
  },
});
