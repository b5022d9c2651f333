// Maps a path inside the parsed document (["faults", 0, "with", "signal"]) back to a line and
// column in the file, so every error can say exactly where it is.

import { isMap, isScalar, isSeq, type Document, type LineCounter } from "yaml";

export interface Position {
  line: number;
  col: number;
}

type Segment = string | number;

/**
 * The position of the value at `path` (or of its key, with `at: "key"`). When the path does not
 * exist, e.g. a required key that is missing, the deepest existing ancestor is used.
 */
export function locate(doc: Document, lines: LineCounter, path: readonly Segment[], at: "value" | "key" = "value"): Position {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(segment));
      if (!pair) break;
      if (last && at === "key") {
        offset = rangeStart(pair.key) ?? offset;
        break;
      }
      node = pair.value ?? pair.key;
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      if (item === undefined) break;
      node = item;
      offset = rangeStart(item) ?? offset;
    } else break;
  }
  return lines.linePos(offset);
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function rangeStart(node: unknown): number | undefined {
  if (node && typeof node === "object" && "range" in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    return range?.[0];
  }
  return undefined;
}
