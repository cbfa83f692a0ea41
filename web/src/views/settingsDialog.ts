// A modal dialog around a SettingsForm: Save checks the form, then hands
// the settings to the caller; a refusal from the server shows in the
// dialog with the server's reason, and the dialog stays open.

import { h, setText } from "../dom";
import type { Settings } from "../types";
import { SettingsForm, type Group } from "./settingsForm";

export interface DialogOptions {
  testid: string;
  prefix: string;
  groups: Group[];
  /** an extra control under the form, e.g. "apply to all targets" */
  extra?: HTMLElement;
}

export class SettingsDialog {
  readonly dlg: HTMLDialogElement;
  readonly form: SettingsForm;
  private readonly title: HTMLElement;
  private readonly intro: HTMLElement;
  private readonly error: HTMLElement;
  private readonly save: HTMLButtonElement;
  private onSave: ((s: Settings, changed: string[]) => Promise<void>) | null = null;

  constructor(o: DialogOptions) {
    this.form = new SettingsForm(o.prefix, o.groups);
    this.title = h("h2", { id: `${o.prefix}-title` });
    this.intro = h("p", { class: "intro" });
    this.error = h("div", { class: "dialog-error", role: "alert", "data-testid": `${o.testid}-error`, hidden: true });
    this.save = h("button", { type: "submit", class: "primary", "data-testid": `${o.testid}-save`, text: "Save" });
    const cancel = h("button", { type: "button", "data-testid": `${o.testid}-cancel`, text: "Cancel", onclick: () => this.dlg.close() });
    const formEl = h("form", { method: "dialog", novalidate: true },
      h("header", {}, this.title, h("button", { type: "button", class: "icon-button close", "aria-label": "Close", text: "×", onclick: () => this.dlg.close() })),
      h("div", { class: "dialog-body" }, this.intro, this.form.el, o.extra ?? null),
      this.error,
      h("footer", {}, cancel, this.save));
    formEl.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.submit();
    });
    this.dlg = h("dialog", { class: "settings-dialog", "data-testid": o.testid, "aria-labelledby": `${o.prefix}-title` }, formEl);
    document.body.append(this.dlg);
  }

  open(title: string, intro: string, s: Settings, onSave: (s: Settings, changed: string[]) => Promise<void>): void {
    setText(this.title, title);
    setText(this.intro, intro);
    this.form.load(s);
    this.showError("");
    this.onSave = onSave;
    this.save.disabled = false;
    this.dlg.showModal();
    this.form.focusFirst();
  }

  close(): void {
    if (this.dlg.open) this.dlg.close();
  }

  private showError(msg: string): void {
    this.error.hidden = !msg;
    setText(this.error, msg);
  }

  private async submit(): Promise<void> {
    const s = this.form.collect();
    if (!s) {
      this.showError("Some values are refused: see the reasons under the fields.");
      return;
    }
    this.showError("");
    this.save.disabled = true;
    try {
      await this.onSave?.(s, this.form.changed());
      this.dlg.close();
    } catch (e) {
      this.showError((e as Error).message || "the settings were refused");
    } finally {
      this.save.disabled = false;
    }
  }
}

export const PROBE_KEYS = ["mode", "port", "timeout", "size", "send_delay", "max_hops", "first_ttl", "dns", "final_hop_only", "tos", "pmtu"];
export const LOG_KEYS = ["log_path", "log_max_bytes", "log_max_files"];
