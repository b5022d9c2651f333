// Colours for terminal output: off with --no-color, NO_COLOR, or when the stream is not a terminal.

import { Chalk, type ChalkInstance } from "chalk";

export function makeStyle(stream: NodeJS.WriteStream, colorFlag: boolean | undefined): ChalkInstance {
  const disabled = colorFlag === false || (process.env.NO_COLOR ?? "") !== "" || !stream.isTTY;
  const forced = (process.env.FORCE_COLOR ?? "") !== "" && process.env.FORCE_COLOR !== "0";
  return new Chalk({ level: disabled && !forced ? 0 : 1 });
}
