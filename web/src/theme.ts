// Theme colours live in CSS variables (app.css); canvases read them here.

export type ThemeName = "dark" | "light";

export interface Palette {
  bg: string;
  panel: string;
  text: string;
  muted: string;
  grid: string;
  accent: string;
  accentFill: string;
  bad: string;
  badFill: string;
  warn: string;
  good: string;
}

export function applyTheme(name: ThemeName): void {
  document.documentElement.dataset.theme = name;
  try {
    localStorage.setItem("pingerplot.theme", name);
  } catch {
    // only a hint for the first paint of the next load
  }
}

export function initialTheme(): ThemeName {
  try {
    return localStorage.getItem("pingerplot.theme") === "light" ? "light" : "dark";
  } catch {
    return "dark";
  }
}

export function currentTheme(): ThemeName {
  return document.documentElement.dataset.theme === "light" ? "light" : "dark";
}

export function palette(): Palette {
  const cs = getComputedStyle(document.documentElement);
  const v = (n: string) => cs.getPropertyValue(n).trim();
  return {
    bg: v("--bg"),
    panel: v("--panel"),
    text: v("--text"),
    muted: v("--muted"),
    grid: v("--grid"),
    accent: v("--accent"),
    accentFill: v("--accent-fill"),
    bad: v("--bad"),
    badFill: v("--bad-fill"),
    warn: v("--warn"),
    good: v("--good"),
  };
}

export const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
