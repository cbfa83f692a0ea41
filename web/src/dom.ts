// A few DOM helpers; the views build their elements with h().

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v as EventListener);
    } else if (k === "class") {
      el.className = String(v);
    } else if (k === "text") {
      el.textContent = String(v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (const c of children) {
    if (c == null || c === false) continue;
    el.append(c);
  }
  return el;
}

/** Sets text only when it changed, so live updates do not churn the DOM. */
export function setText(el: Element, s: string): void {
  if (el.textContent !== s) el.textContent = s;
}

export function setClass(el: Element, name: string, on: boolean): void {
  if (el.classList.contains(name) !== on) el.classList.toggle(name, on);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

/** Calls fn at most once per animation frame. */
export function frameThrottle(fn: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fn();
    });
  };
}

/** Calls fn at most once per ms milliseconds (and once more after the
 * last call), on an animation frame: for updates that come in bursts. */
export function throttle(fn: () => void, ms: number): () => void {
  let last = 0;
  let timer = 0;
  const run = frameThrottle(() => {
    last = performance.now();
    fn();
  });
  return () => {
    if (timer) return;
    const wait = last + ms - performance.now();
    if (wait <= 0) {
      run();
      return;
    }
    timer = window.setTimeout(() => {
      timer = 0;
      run();
    }, wait);
  };
}

/** Saves a blob as a file, the way a download link does. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export async function copyText(s: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(s);
    return;
  } catch {
    // not a secure context or no permission: the old way below
  }
  // styles through the CSSOM, not a style attribute, so a strict
  // Content-Security-Policy (no 'unsafe-inline') allows them
  const ta = h("textarea", { "aria-hidden": "true" });
  ta.style.position = "fixed";
  ta.style.opacity = "0";
  ta.value = s;
  document.body.append(ta);
  ta.select();
  document.execCommand("copy");
  ta.remove();
}

/** Roving tab stop for a list of rows: only one row is in the tab order
 * (the current one, else the first); arrow keys move between rows. */
export function rovingTabStop(tbody: HTMLElement, current: HTMLElement | null): void {
  let stop = current ?? (tbody.querySelector("tr[tabindex='0']") as HTMLElement | null) ?? (tbody.firstElementChild as HTMLElement | null);
  if (stop && stop.parentElement !== tbody) stop = tbody.firstElementChild as HTMLElement | null;
  for (const tr of tbody.children) {
    const want = tr === stop ? "0" : "-1";
    if (tr.getAttribute("tabindex") !== want) tr.setAttribute("tabindex", want);
  }
}
