// HLS playlists and DASH manifests, read into one model: renditions, each with its segments.
// Parsing uses m3u8-parser and mpd-parser, loaded only when a stream probe runs.

export interface Segment {
  uri: string;
  durationS: number;
}

export interface Rendition {
  bandwidth: number;
  resolution: string | undefined;
  /** HLS: the media playlist to fetch; DASH: segments are known from the manifest. */
  playlistUri: string | undefined;
  segments: Segment[] | undefined;
  initUri: string | undefined;
}

export interface Presentation {
  kind: "hls" | "dash";
  renditions: Rendition[];
  live: boolean;
}

export class ManifestError extends Error {}

export function isDash(url: string, contentType: string | undefined, body: string): boolean {
  return /\.mpd(\?|$)/.test(url) || /dash\+xml/.test(contentType ?? "") || /^\s*(<\?xml[^>]*>\s*)?<MPD[\s>]/.test(body);
}

/** A master playlist gives renditions; a media playlist is a single rendition with its segments. */
export async function readHls(text: string, url: string): Promise<Presentation> {
  if (!text.trimStart().startsWith("#EXTM3U")) throw new ManifestError(`${url} is not an HLS playlist (no #EXTM3U)`);
  const manifest = await parseM3u8(text);
  if (manifest.playlists && manifest.playlists.length > 0) {
    const renditions = manifest.playlists.map((v) => ({
      bandwidth: v.attributes.BANDWIDTH ?? 0,
      resolution: v.attributes.RESOLUTION ? `${v.attributes.RESOLUTION.width}x${v.attributes.RESOLUTION.height}` : undefined,
      playlistUri: new URL(v.uri, url).href,
      segments: undefined,
      initUri: undefined,
    }));
    return { kind: "hls", renditions: renditions.sort((a, b) => a.bandwidth - b.bandwidth), live: false };
  }
  const media = await readMediaPlaylist(text, url);
  return { kind: "hls", renditions: [{ bandwidth: 0, resolution: undefined, playlistUri: url, segments: media.segments, initUri: media.initUri }], live: media.live };
}

export async function readMediaPlaylist(text: string, url: string): Promise<{ segments: Segment[]; initUri: string | undefined; live: boolean; targetDurationS: number | undefined }> {
  if (!text.trimStart().startsWith("#EXTM3U")) throw new ManifestError(`${url} is not an HLS playlist (no #EXTM3U)`);
  const manifest = await parseM3u8(text);
  if (manifest.segments.length === 0) throw new ManifestError(`${url} lists no segments`);
  const segments = manifest.segments.map((s) => ({ uri: new URL(s.uri, url).href, durationS: s.duration }));
  const map = manifest.segments[0]?.map?.uri;
  const target = manifest.targetDuration;
  return { segments, initUri: map ? new URL(map, url).href : undefined, live: !manifest.endList, targetDurationS: typeof target === "number" && Number.isFinite(target) && target > 0 ? target : undefined };
}

export async function readDash(text: string, url: string): Promise<Presentation> {
  const { parse } = await import("mpd-parser");
  let manifest;
  try {
    manifest = parse(text, { manifestUri: url });
  } catch (err) {
    throw new ManifestError(`${url} is not a DASH manifest: ${(err as Error).message}`);
  }
  const renditions = manifest.playlists
    .filter((p) => p.segments.length > 0)
    .map((p) => ({
      bandwidth: p.attributes.BANDWIDTH ?? 0,
      resolution: p.attributes.RESOLUTION ? `${p.attributes.RESOLUTION.width}x${p.attributes.RESOLUTION.height}` : undefined,
      playlistUri: undefined,
      segments: p.segments.map((s) => ({ uri: s.resolvedUri, durationS: s.duration })),
      initUri: p.segments[0]?.map?.resolvedUri,
    }));
  if (renditions.length === 0) throw new ManifestError(`${url} has no video representations with segments`);
  return { kind: "dash", renditions: renditions.sort((a, b) => a.bandwidth - b.bandwidth), live: manifest.endList === false };
}

async function parseM3u8(text: string) {
  const { Parser } = await import("m3u8-parser");
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}
