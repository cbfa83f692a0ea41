// The live stream: one EventSource on /api/stream. The browser retries a
// dropped connection by itself; when it gives up (the server answered with
// an error), we retry with a growing delay, never in a tight loop. Every
// (re)open calls onOpen so the controller can re-fetch what it missed.

import type { PPEvent, RoundMsg, TargetSummary } from "./types";

export interface StreamHandlers {
  onOpen(): void;
  onDown(): void;
  onRound(m: RoundMsg): void;
  onEvent(e: PPEvent): void;
  onTargets(t: TargetSummary[]): void;
}

const MIN_RETRY = 1000;
const MAX_RETRY = 30000;

export class Stream {
  private es: EventSource | null = null;
  private retry = MIN_RETRY;
  private timer = 0;

  constructor(private readonly url: string, private readonly h: StreamHandlers) {}

  start(): void {
    this.stop();
    const es = new EventSource(this.url);
    this.es = es;
    es.onopen = () => {
      this.retry = MIN_RETRY;
      this.h.onOpen();
    };
    es.onerror = () => {
      this.h.onDown();
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        this.timer = window.setTimeout(() => this.start(), this.retry);
        this.retry = Math.min(this.retry * 2, MAX_RETRY);
      }
    };
    es.addEventListener("round", (ev) => this.dispatch(ev, (d) => this.h.onRound(d as RoundMsg)));
    es.addEventListener("event", (ev) => this.dispatch(ev, (d) => this.h.onEvent(d as PPEvent)));
    es.addEventListener("targets", (ev) => this.dispatch(ev, (d) => this.h.onTargets(d as TargetSummary[])));
  }

  stop(): void {
    window.clearTimeout(this.timer);
    this.es?.close();
    this.es = null;
  }

  private dispatch(ev: Event, fn: (data: unknown) => void): void {
    let data: unknown;
    try {
      data = JSON.parse((ev as MessageEvent<string>).data);
    } catch {
      console.warn("pingerplot: a stream message was not JSON; ignored");
      return;
    }
    fn(data);
  }
}
