// Client-side sample history of the selected target: one fixed-size ring
// per hop, so memory stays flat however long the page runs. Lost probes
// are NaN.

import type { HistorySample, Hop } from "./types";

/** The most samples kept per hop, whatever the target's history setting. */
export const MAX_CAPACITY = 20000;

export class Ring {
  readonly t: Float64Array;
  readonly rtt: Float64Array;
  private start = 0;
  private n = 0;
  lastRound = -1;

  constructor(readonly capacity: number) {
    this.t = new Float64Array(capacity);
    this.rtt = new Float64Array(capacity);
  }

  get length(): number {
    return this.n;
  }

  /** Appends a sample; samples of a round already held are ignored. */
  push(t: number, rtt: number | null, round: number): void {
    if (round <= this.lastRound) return;
    this.lastRound = round;
    const i = (this.start + this.n) % this.capacity;
    this.t[i] = t;
    this.rtt[i] = rtt == null ? NaN : rtt;
    if (this.n < this.capacity) this.n++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** Index in storage of the k-th oldest sample. */
  at(k: number): number {
    return (this.start + k) % this.capacity;
  }

  /** The first k whose time is >= t0 (binary search; times ascend). */
  lowerBound(t0: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.t[this.at(mid)] < t0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  firstTime(): number {
    return this.n ? this.t[this.at(0)] : NaN;
  }

  lastTime(): number {
    return this.n ? this.t[this.at(this.n - 1)] : NaN;
  }

  /** Copies the samples at or after t0 into plain arrays for uPlot. */
  since(t0: number): { t: number[]; rtt: (number | null)[]; lost: number[] } {
    const t: number[] = [];
    const rtt: (number | null)[] = [];
    const lost: number[] = [];
    for (let k = this.lowerBound(t0); k < this.n; k++) {
      const i = this.at(k);
      const v = this.rtt[i];
      t.push(this.t[i]);
      if (Number.isNaN(v)) {
        rtt.push(null);
        lost.push(this.t[i]);
      } else rtt.push(v);
    }
    return { t, rtt, lost };
  }
}

/** The rings of one target's hops, keyed by TTL. */
export class TargetHistory {
  readonly hops = new Map<number, Ring>();

  constructor(readonly targetId: string, readonly capacity: number) {}

  ring(ttl: number): Ring {
    let r = this.hops.get(ttl);
    if (!r) {
      r = new Ring(this.capacity);
      this.hops.set(ttl, r);
    }
    return r;
  }

  load(hops: Hop[]): void {
    for (const h of hops) {
      const r = this.ring(h.ttl);
      for (const s of h.history ?? []) r.push(s[0], s[1], s[2]);
    }
  }

  /** The span of time held, over all hops. */
  span(): [number, number] {
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of this.hops.values()) {
      if (!r.length) continue;
      lo = Math.min(lo, r.firstTime());
      hi = Math.max(hi, r.lastTime());
    }
    return [lo, hi];
  }
}

export function capacityFor(history: number | undefined): number {
  const h = history && history > 0 ? history : 3600;
  return Math.min(Math.max(h, 10), MAX_CAPACITY);
}

export type { HistorySample };
