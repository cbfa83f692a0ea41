// The detail tabs (WAI-ARIA tabs: arrows move between them, the chosen tab
// is remembered for reloads).

const KEY = "pingerplot.tab";

export class Tabs {
  current = "overview";
  private readonly tabs: HTMLButtonElement[];

  constructor(list: HTMLElement, private readonly onShow: (name: string) => void) {
    this.tabs = [...list.querySelectorAll<HTMLButtonElement>("[role=tab]")];
    for (const t of this.tabs) t.addEventListener("click", () => this.show(t.dataset.tab!, true));
    list.addEventListener("keydown", (e) => {
      const i = this.tabs.indexOf(document.activeElement as HTMLButtonElement);
      if (i < 0) return;
      let j = -1;
      if (e.key === "ArrowRight") j = (i + 1) % this.tabs.length;
      else if (e.key === "ArrowLeft") j = (i + this.tabs.length - 1) % this.tabs.length;
      else if (e.key === "Home") j = 0;
      else if (e.key === "End") j = this.tabs.length - 1;
      if (j < 0) return;
      e.preventDefault();
      this.tabs[j].focus();
      this.show(this.tabs[j].dataset.tab!, true);
    });
    let saved = "overview";
    try {
      saved = sessionStorage.getItem(KEY) ?? "overview";
    } catch {
      // default tab
    }
    this.show(this.tabs.some((t) => t.dataset.tab === saved) ? saved : "overview", false);
  }

  show(name: string, remember: boolean): void {
    this.current = name;
    for (const t of this.tabs) {
      const on = t.dataset.tab === name;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(t.getAttribute("aria-controls")!);
      if (panel) panel.hidden = !on;
    }
    if (remember) {
      try {
        sessionStorage.setItem(KEY, name);
      } catch {
        // not remembered
      }
    }
    this.onShow(name);
  }
}
