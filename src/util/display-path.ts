// How chaoscast shows a file to its user: relative below the working directory, where it is short
// and reads as typed, and absolute elsewhere, since "../../srv/chaos/x.yaml" says less than
// "/srv/chaos/x.yaml" and stops meaning anything once read from another directory (journals).

import path from "node:path";

export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  const outside = relative === "" || relative.split(path.sep)[0] === ".." || path.isAbsolute(relative);
  return outside ? path.resolve(file) : relative;
}
