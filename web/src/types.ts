// Types of the JSON API, as docs/web-api.md defines them. Durations in
// settings are seconds; measurements (*_ms) are milliseconds.

export type Mode = "icmp" | "udp" | "tcp";

/** A target's engine, alert and log options. Every key is optional when
 * sending: the server fills unset keys from the level below. */
export interface Settings {
  interval?: number;
  mode?: Mode;
  port?: number;
  timeout?: number;
  size?: number;
  max_hops?: number;
  first_ttl?: number;
  send_delay?: number;
  final_hop_only?: boolean;
  /** DSCP and ECN of the probes: a TOS byte or names ("EF+ECT(0)") */
  tos?: string;
  pmtu?: boolean;
  alert_loss_pct?: number;
  alert_latency_ms?: number;
  alert_window?: number;
  history?: number;
  webhook_url?: string;
  log_path?: string;
  log_max_bytes?: number;
  log_max_files?: number;
  dns?: boolean;
  [key: string]: unknown;
}

/** One row of GET /api/options: a Settings key as the server checks it
 * (internal/config's option table). Bounds are in the key's own unit. */
export interface OptionSpec {
  key: string;
  type: "seconds" | "integer" | "number" | "bool" | "string";
  unit?: string;
  min?: number;
  max?: number;
  min_open?: boolean;
  /** 0 is also allowed, and means this */
  zero?: string;
  /** the key this one may not exceed */
  at_most?: string;
  choices?: string[];
  url?: boolean;
  default: unknown;
  default_by_mode?: Record<string, number>;
  default_text?: string;
  /** the probe modes that use the key; absent: all */
  modes?: string[];
  description: string;
}

export type TargetState = "running" | "paused" | "alert" | "no-answer" | "cannot-send" | "closed";
export type Condition = "loss" | "latency" | "closed";

export interface DestSummary {
  ttl: number;
  loss_pct: number;
  /** answers of the window that refused the connection (TCP RST: port closed) */
  refused?: number;
  latency_ms: number | null;
  jitter_ms: number | null;
  mos: number | null;
  r: number | null;
  active: Condition[] | null;
}

/** Where a target's problem is (docs/diagnosis.md): the report's object. */
export type DiagnosisWhat =
  | "healthy" | "loss" | "latency" | "jitter" | "route_change" | "path_broken" | "destination_silent" | "not_enough_data";

export interface DiagnosisGroup {
  label: string;
  sent: number;
  lost: number;
  loss_pct: number;
  replies: number;
  median_ms: number | null;
  spread_ms: number | null;
}

export interface DiagnosisHint {
  ttl: number;
  addr?: string;
  /** "rate-limits replies", "does not answer", "loss carried to the destination", "latency step" */
  hint: string;
  evidence: string;
}

export interface Diagnosis {
  what: DiagnosisWhat;
  /** absent when it names no hop */
  where?: { ttl: number; addr?: string; host?: string; asn?: number; as_name?: string; from_ttl: number };
  since?: string;
  since_window_start?: boolean;
  confidence: "low" | "medium" | "high";
  text: string;
  evidence: { rounds: number; before?: DiagnosisGroup; after?: DiagnosisGroup; test?: string; statistic: number };
  hints?: DiagnosisHint[] | null;
}

export interface TargetSummary {
  id: string;
  host: string;
  addr: string;
  state: TargetState;
  hops: number;
  rounds: number;
  dest: DestSummary | null;
  settings: Settings;
  last: string | null;
  /** null before the target's first round, or when the server has none */
  diagnosis?: Diagnosis | null;
  /** the latest path MTU discovery (docs/probing.md); null while it is off or has found none */
  path_mtu?: PathMTU | null;
}

/** A path MTU discovery's result: the report's path_mtu object and its words. */
export interface PathMTU {
  /** bytes, IP headers included; absent when the discovery failed */
  mtu?: number;
  max?: number;
  /** the hop where larger packets stop; absent when none does */
  hop_ttl?: number;
  hop_addr?: string;
  local?: boolean;
  reported?: boolean;
  probes?: number;
  at?: string;
  error?: string;
  /** "1400 bytes (drops at hop 2, 10.0.1.2)" */
  summary: string;
}

export interface OtherAddr {
  addr: string;
  host: string;
  recv: number;
  avg_ms: number | null;
  asn?: number;
  as_name?: string;
}

/** [unix seconds, rtt ms or null when lost, round] */
export type HistorySample = [number, number | null, number];

export interface Hop {
  ttl: number;
  addr: string;
  host: string;
  sent: number;
  recv: number;
  /** replies (of recv) that refused the connection: a TCP destination's RST */
  refused?: number;
  loss_pct: number;
  last_ms: number | null;
  avg_ms: number | null;
  min_ms: number | null;
  max_ms: number | null;
  stdev_ms: number | null;
  jitter_ms: number | null;
  p50_ms?: number | null;
  p95_ms?: number | null;
  destination: boolean;
  /** the AS of addr, when a database or ipwho.is knows it */
  asn?: number;
  as_name?: string;
  others?: OtherAddr[] | null;
  history?: HistorySample[] | null;
  /** per responder, what its latest answer said beyond its address (live detail only) */
  details?: HopDetails[] | null;
}

/** One responder's details at a hop (docs/web-api.md, report -e). */
export interface HopDetails {
  addr: string;
  /** the RFC 4950 label stack, top first */
  mpls?: { label: number; tc: number; s: boolean; ttl: number }[];
  /** RFC 5837 interface objects: role and what the router included */
  interfaces?: { role: string; ifindex?: number; addr?: string; name?: string; mtu?: number }[];
  /** what its quote of the probe shows arrived (raw sockets only): the
   * TOS byte, its DSCP and ECN by name, and whether a translator rewrote
   * the probe before it (only raw IPv4 UDP probes can tell) */
  tos?: number;
  dscp?: string;
  ecn?: string;
  nat?: boolean;
  /** one line per detail, worded as report -e and the terminal UI do */
  lines: string[];
}

/** TargetSummary plus the hops; "hops" is a count in the summary and the
 * list here, as the API returns it. */
export interface TargetDetail extends Omit<TargetSummary, "hops"> {
  hops: Hop[];
}

export type EventKind =
  | "route_change" | "multipath" | "path_length" | "alert_raised" | "alert_cleared"
  | "no_answer" | "send_failed" | "send_resumed" | "settings_changed" | "paused" | "resumed" | "target_added"
  | "target_removed" | "record_error" | "record_gap";

export interface PPEvent {
  time: string;
  target: string;
  kind: EventKind | string;
  ttl?: number;
  message: string;
  condition?: Condition | string;
  value?: number;
  threshold?: number;
}

export interface Sample {
  ttl: number;
  t: number;
  rtt_ms: number | null;
  addr: string;
}

export interface RoundMsg {
  /** numbers round messages 1, 2, 3… for the server's life: a jump means
   * messages were lost */
  seq?: number;
  target: string;
  round: number;
  summary: TargetSummary;
  samples: Sample[];
}

/** What the app remembers between launches. The page reads and writes only
 * the keys below; others (version, targets) are sent back as received. */
export interface UserSettings {
  theme?: "dark" | "light" | "";
  resume_on_launch?: boolean;
  sound?: boolean;
  /** let the Map tab, while open, ask ipwho.is about public hop addresses */
  online_lookups?: boolean;
  defaults?: Settings;
  [key: string]: unknown;
}

/** Why a responder is or is not on the map (GET /api/targets/{id}/geo). */
export type GeoStatus = "located" | "special" | "pending" | "error" | "offline-only" | "unknown";

/** One responder of a target's path on the Map tab. */
export interface GeoHop {
  ttl: number;
  addr: string;
  host: string;
  destination: boolean;
  /** false for the other addresses of an ECMP hop */
  primary: boolean;
  latency_ms: number | null;
  loss_pct: number;
  located: boolean;
  lat: number | null;
  lon: number | null;
  city?: string;
  region?: string;
  country?: string;
  country_code?: string;
  asn?: number;
  as_name?: string;
  source?: string;
  status: GeoStatus | string;
  reason?: string;
}

export interface GeoCredit {
  text: string;
  link: string;
}

export interface GeoAnswer {
  /** a geo resolver exists */
  available: boolean;
  /** the user's online_lookups setting */
  online_allowed: boolean;
  /** online lookups are running right now */
  online: boolean;
  /** requests sent to the online provider since the server started */
  sent: number;
  hops: GeoHop[];
  credits: GeoCredit[];
}

/** GET /api/status: the engine's counters and what each subscriber of the
 * monitor failed to take (docs/web-api.md). */
export interface EngineStatus {
  targets: number;
  rounds: number;
  probes: number;
  missed: number;
  dropped: number;
  subscribers: { name: string; dropped: number }[];
  stream: { clients: number; dropped: number };
  /** the history store's health; null when history is off */
  history?: HistoryStatus | null;
}

/** The history store's health in GET /api/status. */
export interface HistoryStatus {
  path: string;
  bytes: number;
  rounds: number;
  probes: number;
  /** rounds not yet written (waiting for space or a retry) */
  pending: number;
  /** rounds given up (a record_gap event says which) */
  lost: number;
  oldest: string | null;
  last_error: string;
  last_error_at: string | null;
}

/** One target the history holds (GET /api/history/targets). */
export interface StoredTarget {
  key: string;
  host: string;
  addr: string;
  first: string;
  last: string;
  rounds: number;
  /** the monitor runs it now */
  monitored: boolean;
  probe: { mode: string; port?: number; interval: number; timeout: number; max_hops: number };
}

/** One TTL's time steps of a window, as parallel arrays. */
export interface WindowSeries {
  ttl: number;
  /** step starts, Unix seconds */
  t: number[];
  sent: number[];
  lost: number[];
  min_ms: (number | null)[];
  avg_ms: (number | null)[];
  max_ms: (number | null)[];
  p95_ms: (number | null)[];
  addr: string[];
}

/** GET /api/targets/{id}/window: the detail's shape for a past window,
 * with its series and events. */
export interface WindowDetail extends TargetDetail {
  from: string;
  to: string;
  first: string | null;
  last_round: string | null;
  /** false when part of the window came from per-minute rollups */
  exact: boolean;
  monitored: boolean;
  /** seconds per series step */
  step: number;
  series: WindowSeries[];
  events: PPEvent[];
}

/** GET /api/targets/{id}/flows: ECMP flow enumeration (docs/flows.md). */
export interface FlowsAnswer {
  target: string;
  /** the target enumerates flows (its flows setting, or --flows) */
  enabled: boolean;
  /** rounds of the target's own flow since the flows started */
  rounds: number;
  /** why no flow is probed, when set */
  note?: string;
  count: number;
  /** what differs between the flows: "source port" or "echo identifier" */
  varies: string;
  paths: FlowPath[];
}

export interface FlowPath {
  share_pct: number;
  flows: number[];
  reached: boolean;
  dest_loss_pct: number;
  lossy: boolean;
  hops: FlowHop[];
}

/** A distinct path's hop, as the report's hop objects (fields used here). */
export interface FlowHop {
  ttl: number;
  addr: string;
  host?: string;
  loss_pct: number;
  sent: number;
  avg_ms?: number | null;
}
