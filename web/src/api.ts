// The HTTP client of docs/web-api.md. Every request carries the token as a
// Bearer header; errors become ApiError with the server's message.

import type {
  EngineStatus, FlowsAnswer, GeoAnswer, OptionSpec, PPEvent, Settings, StoredTarget, TargetDetail, TargetSummary, UserSettings, WindowDetail,
} from "./types";

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface Download {
  blob: Blob;
  filename: string;
}

export class Api {
  constructor(private readonly token: string, private readonly base = "") {}

  /** The stream URL; EventSource cannot send headers, so the token rides
   * in the query. */
  streamURL(): string {
    return `${this.base}/api/stream?token=${encodeURIComponent(this.token)}`;
  }

  private async send(method: string, path: string, body?: unknown, signal?: AbortSignal, keepalive = false): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}` };
    let payload: string | undefined;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(this.base + path, { method, headers, body: payload, signal, cache: "no-store", keepalive });
    } catch (e) {
      if ((e as Error).name === "AbortError") throw e;
      throw new ApiError(0, "cannot reach PingerPlot: is it still running?");
    }
    if (!res.ok) throw new ApiError(res.status, await errorText(res));
    return res;
  }

  private async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.send(method, path, body, signal);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  private async download(path: string, fallback: string): Promise<Download> {
    const res = await this.send("GET", path);
    return { blob: await res.blob(), filename: filenameOf(res) ?? fallback };
  }

  status(): Promise<EngineStatus> {
    return this.json("GET", "/api/status");
  }
  targets(): Promise<TargetSummary[]> {
    return this.json("GET", "/api/targets");
  }
  addTarget(host: string, settings?: Settings, name = ""): Promise<TargetSummary> {
    return this.json("POST", "/api/targets", settings ? { host, name, settings } : { host, name });
  }
  detail(id: string, history: boolean, signal?: AbortSignal): Promise<TargetDetail> {
    return this.json("GET", `/api/targets/${enc(id)}${history ? "?history=1" : ""}`, undefined, signal);
  }
  remove(id: string): Promise<void> {
    return this.json("DELETE", `/api/targets/${enc(id)}`);
  }
  pause(id: string): Promise<TargetSummary> {
    return this.json("POST", `/api/targets/${enc(id)}/pause`);
  }
  resume(id: string): Promise<TargetSummary> {
    return this.json("POST", `/api/targets/${enc(id)}/resume`);
  }
  putTargetSettings(id: string, s: Settings): Promise<TargetSummary> {
    return this.json("PUT", `/api/targets/${enc(id)}/settings`, s);
  }
  events(since?: string): Promise<PPEvent[]> {
    return this.json("GET", `/api/events${since ? `?since=${encodeURIComponent(since)}` : ""}`);
  }
  summaryCSV(id: string): Promise<Download> {
    return this.download(`/api/targets/${enc(id)}/summary.csv`, `${safeName(id)}-summary.csv`);
  }
  session(): Promise<Download> {
    return this.download("/api/session", `pingerplot-session-${stamp()}.json`);
  }
  loadSession(text: string): Promise<TargetSummary[]> {
    return this.json("POST", "/api/session", text);
  }
  /** The server's table of settings keys: ranges, defaults, modes. */
  options(): Promise<OptionSpec[]> {
    return this.json("GET", "/api/options");
  }
  settings(): Promise<UserSettings> {
    return this.json("GET", "/api/settings");
  }
  putSettings(s: UserSettings): Promise<UserSettings> {
    return this.json("PUT", "/api/settings", s);
  }
  /** The Map tab's answer; with a window, for the hops of that window. */
  geo(id: string, signal?: AbortSignal, win?: { from: number; to: number }): Promise<GeoAnswer> {
    return this.json("GET", `/api/targets/${enc(id)}/geo${win ? "?" + windowQuery(win.from, win.to) : ""}`, undefined, signal);
  }
  /** A target's ECMP flows and their distinct paths (the Paths tab). */
  flows(id: string, signal?: AbortSignal): Promise<FlowsAnswer> {
    return this.json("GET", `/api/targets/${enc(id)}/flows`, undefined, signal);
  }
  /** The targets the history holds, removed ones included. */
  historyTargets(): Promise<StoredTarget[]> {
    return this.json("GET", "/api/history/targets");
  }
  /** A past window of a target from the history; points is the graph's
   * width, so the series has about one step per pixel. */
  window(id: string, from: number, to: number, points: number, signal?: AbortSignal): Promise<WindowDetail> {
    return this.json("GET", `/api/targets/${enc(id)}/window?${windowQuery(from, to)}&points=${points}`, undefined, signal);
  }
  /** The evidence file of a window (one self-contained HTML page). */
  evidence(id: string, from: number, to: number): Promise<Download> {
    return this.download(`/api/targets/${enc(id)}/evidence?${windowQuery(from, to)}`, `pingerplot-evidence-${safeName(id)}.html`);
  }
  /** Tells the server the Map tab opened or closed (online lookups run only
   * while it is open). keepalive lets it go out while the page unloads. */
  async putGeo(mapOpen: boolean, keepalive = false): Promise<void> {
    await this.send("PUT", "/api/geo", { map_open: mapOpen }, undefined, keepalive);
  }
}

/** from and to (Unix seconds) as the window endpoints take them. */
function windowQuery(from: number, to: number): string {
  const iso = (t: number) => encodeURIComponent(new Date(Math.round(t * 1000)).toISOString());
  return `from=${iso(from)}&to=${iso(to)}`;
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

async function errorText(res: Response): Promise<string> {
  let text = "";
  try {
    text = await res.text();
    const j = JSON.parse(text) as { error?: string };
    if (j && typeof j.error === "string" && j.error) return j.error;
  } catch {
    // not JSON: use the text, or the status below
  }
  if (res.status === 401) return "the page's token was refused: open the address PingerPlot printed when it started";
  text = text.trim();
  return text && text.length < 300 ? text : `${res.status} ${res.statusText}`.trim();
}

function filenameOf(res: Response): string | null {
  const cd = res.headers.get("Content-Disposition");
  if (!cd) return null;
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "_") || "target";
}

function stamp(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}
