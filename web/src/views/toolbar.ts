// The two toolbar rows: add a target, sessions, the Engine… dialog and the
// theme; then the alert thresholds for new targets, Sound, notifications
// and "Resume targets on launch".

import type { App } from "../app";
import { byId, h, setText } from "../dom";
import { EMAIL_KEYS, checkField, effective, useOptions } from "../settings";
import { setNotify, notifyWanted, unlockAudio } from "../sound";
import { applyTheme, currentTheme, type ThemeName } from "../theme";
import type { Settings } from "../types";
import { confirmDialog } from "./confirm";
import { LOG_KEYS, PROBE_KEYS, SettingsDialog } from "./settingsDialog";

const THRESHOLD_KEYS = ["alert_loss_pct", "alert_latency_ms", "alert_window"] as const;

export class Toolbar {
  private readonly target = byId<HTMLInputElement>("target-input");
  private readonly interval = byId<HTMLInputElement>("interval-input");
  private readonly addError = byId("add-error");
  private readonly addButton = byId<HTMLButtonElement>("add-button");
  private readonly thresholds: Record<(typeof THRESHOLD_KEYS)[number], HTMLInputElement> = {
    alert_loss_pct: byId<HTMLInputElement>("threshold-loss"),
    alert_latency_ms: byId<HTMLInputElement>("threshold-latency"),
    alert_window: byId<HTMLInputElement>("threshold-window"),
  };
  private readonly thresholdError = byId("threshold-error");
  private readonly applyButton = byId<HTMLButtonElement>("thresholds-apply");
  private readonly sound = byId<HTMLButtonElement>("sound-toggle");
  private readonly notifyBox = byId<HTMLInputElement>("notify-toggle");
  private readonly resumeBox = byId<HTMLInputElement>("resume-on-launch");
  private readonly themeButton = byId<HTMLButtonElement>("theme-toggle");
  private readonly applyAll = h("input", { type: "checkbox", id: "engine-apply-all", "data-testid": "engine-apply-all" });
  private readonly engine = new SettingsDialog({
    testid: "engine-dialog",
    prefix: "engine",
    groups: [
      { legend: "Probes", keys: PROBE_KEYS },
      { legend: "History and webhook", keys: ["history", "webhook_url"] },
      { legend: "E-mail alerts", keys: EMAIL_KEYS },
      { legend: "Probe log (CSV)", keys: LOG_KEYS },
    ],
    extra: h("div", { class: "field bool apply-all" },
      h("label", { for: "engine-apply-all" }, this.applyAll, " Also apply the changes to every running target"),
      h("span", { class: "help", text: "the log path is never copied to other targets: each needs its own file" })),
  });

  constructor(private readonly app: App) {
    byId("add-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.add();
    });
    this.target.addEventListener("input", () => this.showAddError(""));
    byId("save-session").addEventListener("click", () => app.saveSession());
    const file = byId<HTMLInputElement>("load-session-file");
    byId("load-session").addEventListener("click", () => file.click());
    file.addEventListener("change", () => {
      const f = file.files?.[0];
      file.value = "";
      if (f) app.loadSession(f).catch((e) => app.fail(e));
    });
    byId("engine-button").addEventListener("click", () => this.openEngine());
    this.themeButton.addEventListener("click", () => this.toggleTheme());

    byId("threshold-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.applyThresholds();
    });
    for (const input of Object.values(this.thresholds)) {
      input.addEventListener("input", () => this.thresholdsEdited());
    }
    this.sound.addEventListener("click", () => this.toggleSound());
    this.notifyBox.checked = notifyWanted();
    this.notifyBox.addEventListener("change", () => {
      const want = this.notifyBox.checked;
      setNotify(want).then((on) => {
        this.notifyBox.checked = on;
        if (want && !on) app.toasts.show("The browser refused notifications for this page; allow them in its site settings.", "error");
      }, (e) => app.fail(e));
    });
    this.resumeBox.addEventListener("change", () => {
      const on = this.resumeBox.checked;
      app.saveSettings((u) => {
        u.resume_on_launch = on;
      }).catch((e) => {
        this.resumeBox.checked = !on;
        app.fail(e);
      });
    });
    // browsers start audio only after a user gesture
    const unlock = () => {
      if (app.store.settings.sound) unlockAudio();
    };
    document.addEventListener("pointerdown", unlock, { capture: true });
    document.addEventListener("keydown", unlock, { capture: true });
    app.store.on("settings", () => this.render());
    this.renderTheme();
  }

  /** Loads the user settings and shows them. */
  async load(): Promise<void> {
    try {
      const [u, options] = await Promise.all([this.app.api.settings(), this.app.api.options()]);
      useOptions(options);
      this.app.store.settings = u;
      this.app.store.settingsLoaded = true;
      const theme: ThemeName = u.theme === "light" ? "light" : "dark";
      if (theme !== currentTheme()) {
        applyTheme(theme);
        this.app.themeChanged();
      }
      this.interval.value = String(effective(u.defaults ?? {}, "interval"));
      this.app.store.emit("settings");
    } catch (e) {
      this.app.fail(e);
    }
  }

  private render(): void {
    const u = this.app.store.settings;
    const d = u.defaults ?? {};
    if (!this.thresholdsDirty) {
      for (const k of THRESHOLD_KEYS) this.thresholds[k].value = String(effective(d, k));
    }
    this.applyButton.disabled = !this.thresholdsDirty;
    const on = Boolean(u.sound);
    this.sound.setAttribute("aria-pressed", String(on));
    setText(this.sound.querySelector(".label")!, on ? "Sound on" : "Sound off");
    this.resumeBox.checked = Boolean(u.resume_on_launch);
    this.renderTheme();
  }

  private renderTheme(): void {
    const dark = currentTheme() === "dark";
    this.themeButton.setAttribute("aria-label", dark ? "Switch to the light theme" : "Switch to the dark theme");
    this.themeButton.title = this.themeButton.getAttribute("aria-label")!;
    this.themeButton.dataset.theme = currentTheme();
    setText(this.themeButton.querySelector(".label")!, dark ? "Dark" : "Light");
  }

  private showAddError(msg: string): void {
    setText(this.addError, msg);
    this.addError.hidden = !msg;
    if (msg) this.target.setAttribute("aria-invalid", "true");
    else this.target.removeAttribute("aria-invalid");
  }

  private async add(): Promise<void> {
    const host = this.target.value.trim();
    if (!host) {
      this.showAddError("Enter a host name or IP address to monitor.");
      this.target.focus();
      return;
    }
    if (/\s/.test(host)) {
      this.showAddError("A host name or address has no spaces.");
      this.target.focus();
      return;
    }
    const interval = Number(this.interval.value);
    const why = checkField("interval", this.interval.value.trim() === "" ? NaN : interval, {});
    if (why) {
      this.showAddError(`Interval ${why}.`);
      this.interval.focus();
      return;
    }
    this.addButton.disabled = true;
    try {
      await this.app.addTarget(host, interval);
      this.target.value = "";
      this.showAddError("");
    } catch (e) {
      this.showAddError((e as Error).message);
      this.target.focus();
    } finally {
      this.addButton.disabled = false;
    }
  }

  private toggleTheme(): void {
    const next: ThemeName = currentTheme() === "dark" ? "light" : "dark";
    applyTheme(next);
    this.app.themeChanged();
    this.renderTheme();
    this.app.saveSettings((u) => {
      u.theme = next;
    }).catch((e) => this.app.fail(e));
  }

  private toggleSound(): void {
    const on = !this.app.store.settings.sound;
    if (on) unlockAudio();
    this.app.store.settings.sound = on;
    this.render();
    this.app.saveSettings((u) => {
      u.sound = on;
    }).catch((e) => {
      this.app.store.settings.sound = !on;
      this.render();
      this.app.fail(e);
    });
  }

  private thresholdsDirty = false;

  private thresholdsEdited(): void {
    this.thresholdsDirty = true;
    this.applyButton.disabled = false;
    this.readThresholds(false);
  }

  private readThresholds(focus: boolean): Settings | null {
    const out: Settings = {};
    for (const k of THRESHOLD_KEYS) {
      const input = this.thresholds[k];
      const v = input.value.trim() === "" ? NaN : Number(input.value);
      const why = checkField(k, v, {});
      if (why) {
        const name = k === "alert_loss_pct" ? "Loss" : k === "alert_latency_ms" ? "Latency" : "Window";
        setText(this.thresholdError, `${name} ${why}.`);
        this.thresholdError.hidden = false;
        input.setAttribute("aria-invalid", "true");
        if (focus) input.focus();
        return null;
      }
      input.removeAttribute("aria-invalid");
      out[k] = v;
    }
    setText(this.thresholdError, "");
    this.thresholdError.hidden = true;
    return out;
  }

  private async applyThresholds(): Promise<void> {
    const t = this.readThresholds(true);
    if (!t) return;
    this.applyButton.disabled = true;
    try {
      await this.app.saveSettings((u) => {
        u.defaults = { ...(u.defaults ?? {}), ...t };
      });
      this.thresholdsDirty = false;
      this.render();
      const n = this.app.store.order.length;
      if (n === 0) {
        this.app.toasts.show("Thresholds saved for new targets");
        return;
      }
      const all = await confirmDialog(
        `The thresholds now apply to new targets. Apply them to the ${n} running target${n === 1 ? "" : "s"} as well?`,
        "Apply to all", "New targets only", "Alert thresholds");
      if (all) {
        const done = await this.app.applyToAll(t, [...THRESHOLD_KEYS]);
        this.app.toasts.show(`Thresholds applied to ${done} target${done === 1 ? "" : "s"}`);
      } else {
        this.app.toasts.show("Thresholds saved for new targets");
      }
    } catch (e) {
      this.thresholdsDirty = true;
      this.applyButton.disabled = false;
      setText(this.thresholdError, (e as Error).message);
      this.thresholdError.hidden = false;
    }
  }

  private openEngine(): void {
    const defaults = this.app.store.settings.defaults ?? {};
    this.applyAll.checked = false;
    this.engine.open("Engine options",
      "Probe, history and log options for new targets. Each target keeps its own copy: right-click a target → Edit settings… to change one.",
      defaults, async (s, changed) => {
        const keys = changed.filter((k) => k !== "interval");
        await this.app.saveSettings((u) => {
          const next: Settings = { ...(u.defaults ?? {}) };
          for (const [k, v] of Object.entries(s)) next[k] = v;
          // no port from the form: the mode changed and the user typed none,
          // so new targets get the mode's default port
          if (!("port" in s) || (next.mode ?? "icmp") === "icmp") delete next.port;
          u.defaults = next;
        });
        if (this.applyAll.checked && keys.length) {
          const shared = keys.filter((k) => k !== "log_path");
          if (shared.includes("mode") && !shared.includes("port")) shared.push("port");
          const n = await this.app.applyToAll(s, shared);
          this.app.toasts.show(`Engine options saved and applied to ${n} target${n === 1 ? "" : "s"}`);
        } else {
          this.app.toasts.show("Engine options saved for new targets");
        }
      });
  }
}
