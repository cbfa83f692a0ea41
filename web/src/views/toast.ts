// Short messages at the bottom right: results of actions and errors.

import { h } from "../dom";

export class Toasts {
  constructor(private readonly el: HTMLElement) {}

  show(text: string, kind: "info" | "error" = "info", ms = kind === "error" ? 8000 : 3000): void {
    const t = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status", "data-testid": `toast-${kind}` },
      h("span", { text }),
      h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", text: "×", onclick: () => t.remove() }));
    this.el.append(t);
    while (this.el.childElementCount > 4) this.el.firstElementChild!.remove();
    setTimeout(() => t.remove(), ms);
  }
}
