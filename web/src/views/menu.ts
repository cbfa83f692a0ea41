// The context menu (right-click on a target or a hop). Keyboard: arrows
// move, Enter activates, Escape closes and gives focus back.

import { h } from "../dom";

export interface MenuItem {
  label: string;
  testid: string;
  action: () => void;
  danger?: boolean;
  separatorBefore?: boolean;
}

export class ContextMenu {
  private opener: HTMLElement | null = null;

  constructor(private readonly el: HTMLElement) {
    document.addEventListener("mousedown", (e) => {
      if (!el.hidden && !el.contains(e.target as Node)) this.close(false);
    });
    window.addEventListener("blur", () => this.close(false));
    window.addEventListener("resize", () => this.close(false));
    el.addEventListener("keydown", (e) => this.key(e));
  }

  open(items: MenuItem[], x: number, y: number, opener: HTMLElement): void {
    this.opener = opener;
    const buttons = items.map((it) => h("button", {
      type: "button", role: "menuitem", class: `menu-item${it.danger ? " danger" : ""}${it.separatorBefore ? " sep" : ""}`,
      "data-testid": it.testid, tabindex: -1,
      onclick: () => {
        this.close(true);
        it.action();
      },
    }, it.label));
    this.el.replaceChildren(...buttons);
    this.el.hidden = false;
    const r = this.el.getBoundingClientRect();
    const left = Math.min(x, window.innerWidth - r.width - 4);
    const top = Math.min(y, window.innerHeight - r.height - 4);
    this.el.style.left = `${Math.max(4, left)}px`;
    this.el.style.top = `${Math.max(4, top)}px`;
    buttons[0]?.focus();
  }

  close(refocus: boolean): void {
    if (this.el.hidden) return;
    this.el.hidden = true;
    this.el.replaceChildren();
    if (refocus) this.opener?.focus();
    this.opener = null;
  }

  private key(e: KeyboardEvent): void {
    const items = [...this.el.querySelectorAll<HTMLButtonElement>(".menu-item")];
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = items.length;
      items[(i + (e.key === "ArrowDown" ? 1 : n - 1)) % n]?.focus();
    } else if (e.key === "Escape") {
      e.preventDefault();
      this.close(true);
    } else if (e.key === "Tab") {
      e.preventDefault();
      this.close(true);
    } else if (e.key === "Home") {
      e.preventDefault();
      items[0]?.focus();
    } else if (e.key === "End") {
      e.preventDefault();
      items[items.length - 1]?.focus();
    }
  }
}
