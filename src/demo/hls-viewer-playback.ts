// The media element of the model: buffered media on the timeline, and a playhead that moves in
// real time once the first fragment covering the start position is buffered (the first frame).
// It stalls when it reaches the end of what is buffered and resumes when more arrives; a hole in
// the buffer (a fragment a live player skipped) is jumped over, as hls.js's gap controller does.
// Nothing ticks: the playhead is worked out from the clock whenever asked, and one timer is armed
// for the next moment something happens by itself (the buffer runs dry, another level starts
// playing, the stream ends).

export interface BufferedMedia {
  start: number;
  end: number;
  level: number;
  bitrateBps: number;
}

export interface PlaybackEvents {
  /** The first frame (the `playing` event of the first start). */
  onPlaying(atMs: number): void;
  /** Playback ran out of buffer after the start (a `waiting` event). */
  onStall(atMs: number): void;
  onResume(atMs: number, stalledMs: number): void;
  /** The level at the playhead changed (the first one included): hls.js's LEVEL_SWITCHED. */
  onLevelPlayed(level: number, bitrateBps: number): void;
  /** A VOD played to its end. */
  onEnded(atMs: number): void;
}

export type PlaybackState = "starting" | "playing" | "stalled" | "ended";

export interface PlaybackStats {
  playedS: number;
  /** Played seconds whose level declared a bitrate, and their kbit (for the time-weighted mean). */
  ratedS: number;
  kbit: number;
  stalls: number;
  /** Including a stall still going on. */
  stalledMs: number;
  switches: number;
  firstBitrateBps: number | undefined;
  lastBitrateBps: number | undefined;
}

/** Buffered ranges closer than this are one (hls.js maxBufferHole). */
const CONTIGUOUS_S = 0.1;
/** Float noise in positions summed from durations. */
const EPSILON_S = 1e-6;

export class PlaybackClock {
  private buffered: BufferedMedia[] = [];
  private position = 0;
  /** When the playhead was at `position` (while playing, it has moved on since). */
  private positionAt = 0;
  private state_: PlaybackState = "starting";
  private stalledSince = 0;
  private endOfStream: number | undefined;
  private playedLevel: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly stats_: PlaybackStats = { playedS: 0, ratedS: 0, kbit: 0, stalls: 0, stalledMs: 0, switches: 0, firstBitrateBps: undefined, lastBitrateBps: undefined };

  constructor(
    private readonly events: PlaybackEvents,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get state(): PlaybackState {
    this.advance();
    return this.state_;
  }

  get started(): boolean {
    return this.state_ !== "starting";
  }

  /** Where playback will begin (before the first frame only). */
  setStartPosition(position: number): void {
    if (this.state_ === "starting") this.position = position;
  }

  /** The playhead now (media seconds). */
  currentTime(): number {
    this.advance();
    return this.position;
  }

  /** Seconds buffered contiguously ahead of the playhead: how long until it would stall. */
  forwardBufferS(): number {
    this.advance();
    return Math.max(0, this.bufferEnd() - this.position);
  }

  /** The end of the buffered range the playhead is in (the playhead itself when it is in none). */
  bufferEnd(): number {
    this.advance();
    let end = this.position;
    for (const b of this.buffered) {
      if (b.end <= end + EPSILON_S) continue;
      if (b.start > end + CONTIGUOUS_S) break;
      end = b.end;
    }
    return end;
  }

  append(media: BufferedMedia): void {
    this.advance();
    if (this.state_ === "ended") return;
    const at = this.buffered.findIndex((b) => b.start > media.start);
    this.buffered.splice(at === -1 ? this.buffered.length : at, 0, media);
    const now = this.now();
    if (this.state_ === "starting" && this.covers(this.position)) {
      this.state_ = "playing";
      this.positionAt = now;
      this.enterLevelAt(this.position);
      this.events.onPlaying(now);
    } else if (this.state_ === "stalled" && this.playableFrom(this.position) !== undefined) {
      this.resume(now);
    }
    this.schedule();
  }

  /** A VOD's last fragment is buffered (say so as it is appended): reaching `end` ends playback instead of stalling. */
  markEndOfStream(end: number): void {
    this.endOfStream = end;
    this.advance();
    this.schedule();
  }

  /** Move the playhead (a live player resyncing to the live edge): what was buffered is dropped. */
  seek(position: number): void {
    this.advance();
    this.buffered = [];
    this.position = position;
    this.positionAt = this.now();
    this.schedule();
  }

  stats(): PlaybackStats {
    this.advance();
    const ongoing = this.state_ === "stalled" ? this.now() - this.stalledSince : 0;
    return { ...this.stats_, stalledMs: this.stats_.stalledMs + ongoing };
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Moves the playhead up to now, raising what happened on the way. */
  private advance(): void {
    if (this.state_ !== "playing") return;
    const now = this.now();
    while (this.state_ === "playing" && this.positionAt < now - EPSILON_S) {
      const current = this.playableFrom(this.position);
      if (current === undefined) {
        this.runDry(this.positionAt);
        break;
      }
      if (current.start > this.position) this.position = current.start; // a hole, jumped over
      this.enterLevelAt(this.position);
      const step = Math.min(current.end - this.position, (now - this.positionAt) / 1000);
      this.play(step, current.bitrateBps);
    }
    this.dropPlayed();
  }

  private play(seconds: number, bitrateBps: number): void {
    this.position += seconds;
    this.positionAt += seconds * 1000;
    this.stats_.playedS += seconds;
    if (bitrateBps > 0) {
      this.stats_.ratedS += seconds;
      this.stats_.kbit += (seconds * bitrateBps) / 1000;
    }
  }

  /** The buffered media the playhead plays from `position`: the one it is in, or the next after a hole. */
  private playableFrom(position: number): BufferedMedia | undefined {
    return this.buffered.find((b) => b.end > position + EPSILON_S);
  }

  private covers(position: number): boolean {
    return this.buffered.some((b) => b.start <= position + CONTIGUOUS_S && b.end > position + EPSILON_S);
  }

  private runDry(at: number): void {
    if (this.endOfStream !== undefined && this.position >= this.endOfStream - CONTIGUOUS_S) {
      this.state_ = "ended";
      this.events.onEnded(at);
      return;
    }
    this.state_ = "stalled";
    this.stalledSince = at;
    this.stats_.stalls += 1;
    this.events.onStall(at);
  }

  private resume(now: number): void {
    const stalledMs = now - this.stalledSince;
    this.stats_.stalledMs += stalledMs;
    this.state_ = "playing";
    this.positionAt = now;
    this.events.onResume(now, stalledMs);
  }

  private enterLevelAt(position: number): void {
    const media = this.buffered.find((b) => b.start <= position + EPSILON_S && b.end > position + EPSILON_S) ?? this.playableFrom(position);
    if (!media || media.level === this.playedLevel) return;
    if (this.playedLevel !== undefined) this.stats_.switches += 1;
    this.playedLevel = media.level;
    this.stats_.firstBitrateBps ??= media.bitrateBps;
    this.stats_.lastBitrateBps = media.bitrateBps;
    this.events.onLevelPlayed(media.level, media.bitrateBps);
  }

  /** Media behind the playhead is never played again. */
  private dropPlayed(): void {
    while (this.buffered.length > 0 && this.buffered[0]!.end <= this.position + EPSILON_S) this.buffered.shift();
  }

  /** One timer, for the next thing that happens without anyone asking: running dry or a new level. */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state_ !== "playing") return;
    let wake = Number.POSITIVE_INFINITY;
    let position = this.position;
    for (const b of this.buffered) {
      if (b.end <= position + EPSILON_S) continue;
      if (b.level !== this.playedLevel) {
        wake = Math.max(b.start, position) - this.position;
        break;
      }
      position = b.end;
      wake = position - this.position;
    }
    if (!Number.isFinite(wake)) wake = 0;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.advance();
        this.schedule();
      },
      Math.max(1, Math.ceil(wake * 1000)),
    );
  }
}
