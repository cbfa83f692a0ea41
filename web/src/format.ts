// How numbers and times are shown.

/** An RTT in ms at the resolution the engine measures (µs): 3 decimals
 * under 10 ms, 2 under 100 ms, 1 above. */
export function ms(v: number | null | undefined): string {
  if (v == null || Number.isNaN(v)) return "–";
  if (v < 10) return v.toFixed(3);
  if (v < 100) return v.toFixed(2);
  return v.toFixed(1);
}

export function pct(v: number | null | undefined): string {
  if (v == null || Number.isNaN(v)) return "–";
  if (v === 0) return "0";
  if (v < 10) return v.toFixed(1);
  return Math.round(v).toString();
}

export function mos(v: number | null | undefined): string {
  return v == null || Number.isNaN(v) || v === 0 ? "–" : v.toFixed(2);
}

/** Quality class for a MOS: good (≥ 4.0), fair (≥ 3.6), poor. */
export function mosClass(v: number | null | undefined): string {
  if (v == null || v === 0) return "";
  if (v >= 4) return "q-good";
  if (v >= 3.6) return "q-fair";
  return "q-poor";
}

const p2 = (n: number) => String(n).padStart(2, "0");

export function clock(d: Date): string {
  return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

export function dateTime(d: Date): string {
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${clock(d)}`;
}

export function seconds(v: number | undefined): string {
  if (v == null) return "";
  return v >= 1 ? `${+v.toFixed(2)} s` : `${Math.round(v * 1000)} ms`;
}

export function count(n: number): string {
  return n.toLocaleString("en-US");
}
