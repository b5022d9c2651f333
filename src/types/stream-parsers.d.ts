// The parts of m3u8-parser and mpd-parser that chaoscast uses (the packages ship no types).

declare module "m3u8-parser" {
  export interface M3u8Segment {
    uri: string;
    duration: number;
    map?: { uri: string };
  }
  export interface M3u8Variant {
    uri: string;
    attributes: { BANDWIDTH?: number; RESOLUTION?: { width: number; height: number } };
  }
  export interface M3u8Manifest {
    playlists?: M3u8Variant[];
    segments: M3u8Segment[];
    endList?: boolean;
    targetDuration?: number;
  }
  export class Parser {
    push(text: string): void;
    end(): void;
    manifest: M3u8Manifest;
  }
}

declare module "mpd-parser" {
  export interface MpdSegment {
    resolvedUri: string;
    duration: number;
    map?: { resolvedUri: string };
  }
  export interface MpdPlaylist {
    attributes: { BANDWIDTH?: number; RESOLUTION?: { width: number; height: number } };
    segments: MpdSegment[];
  }
  export function parse(manifest: string, options: { manifestUri: string }): { playlists: MpdPlaylist[]; endList?: boolean };
}
