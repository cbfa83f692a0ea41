// A form over Settings, built from settings.ts's FIELDS: shared by the
// Engine… dialog (the defaults for new targets) and a target's Edit
// settings… dialog. Values are checked as they are typed; the reason shows
// under the field.

import { h } from "../dom";
import { DEFAULT_PORT, FIELDS, checkField, effective, modeOf, usedBy, type Field } from "../settings";
import type { Settings } from "../types";

export interface Group {
  legend: string;
  keys: string[];
}

interface Control {
  field: Field;
  input: HTMLInputElement | HTMLSelectElement;
  error: HTMLElement;
  initial: unknown;
}

export class SettingsForm {
  readonly el: HTMLElement;
  private controls = new Map<string, Control>();
  private source: Settings = {};
  /** the user typed a port since load: only then does a mode change carry
   * one (otherwise the server gives the new mode its default port) */
  private portTyped = false;

  constructor(prefix: string, groups: Group[]) {
    this.el = h("div", { class: "settings-form" });
    for (const g of groups) {
      const fs = h("fieldset", {}, h("legend", { text: g.legend }));
      for (const key of g.keys) fs.append(this.control(prefix, FIELDS[key]));
      this.el.append(fs);
    }
  }

  private control(prefix: string, f: Field): HTMLElement {
    const id = `${prefix}-${f.key}`;
    const errId = `${id}-error`;
    let input: HTMLInputElement | HTMLSelectElement;
    if (f.kind === "mode") {
      input = h("select", { id },
        h("option", { value: "icmp", text: "ICMP echo" }),
        h("option", { value: "udp", text: "UDP" }),
        h("option", { value: "tcp", text: "TCP SYN" }));
    } else if (f.kind === "choice") {
      input = h("select", { id }, ...(f.choices ?? []).map((c) => h("option", { value: c, text: c })));
    } else if (f.kind === "bool") {
      input = h("input", { id, type: "checkbox" });
    } else {
      input = h("input", {
        id,
        type: f.kind === "text" ? (f.key === "webhook_url" ? "url" : f.key === "smtp_password" ? "password" : "text") : "number",
        step: f.kind === "int" ? "1" : f.step ?? "any",
        inputmode: f.kind === "int" ? "numeric" : f.kind === "number" ? "decimal" : null,
        spellcheck: "false",
        autocomplete: "off",
        placeholder: f.key === "webhook_url" ? "https://hooks.example/…" : f.key === "log_path" ? "pingerplot-log.csv" : f.key === "tos" ? "EF+ECT(0)" : null,
      });
    }
    input.setAttribute("data-testid", `setting-${f.key}`);
    input.setAttribute("aria-describedby", errId);
    const error = h("div", { class: "field-error", id: errId, "data-testid": `setting-error-${f.key}`, role: "status" });
    this.controls.set(f.key, { field: f, input, error, initial: undefined });
    input.addEventListener("input", () => {
      if (f.key === "port") this.portTyped = true;
      this.validate(f.key);
    });
    input.addEventListener("change", () => {
      if (f.key === "mode") this.modeChanged();
      this.validate(f.key);
      if (f.key === "max_hops") this.validate("first_ttl");
    });
    const help = f.help ? h("span", { class: "help", text: f.help }) : null;
    if (f.kind === "bool") {
      return h("div", { class: "field bool" }, h("label", { for: id }, input, ` ${f.label}`), help, error);
    }
    return h("div", { class: "field" },
      h("label", { for: id, text: f.label }),
      h("span", { class: "input-wrap" }, input, f.unit ? h("span", { class: "unit", text: f.unit }) : null),
      help, error);
  }

  /** Fills the form from s; keys s lacks show their built-in default. */
  load(s: Settings): void {
    this.source = { ...s };
    this.portTyped = false;
    for (const [key, c] of this.controls) {
      const v = effective(s, key);
      this.setValue(c, v);
      c.initial = this.readValue(c);
      c.error.textContent = "";
      c.input.removeAttribute("aria-invalid");
    }
    this.modeChanged(false);
  }

  private setValue(c: Control, v: unknown): void {
    const f = c.field;
    if (f.kind === "bool") (c.input as HTMLInputElement).checked = Boolean(v);
    else if (f.kind === "mode") c.input.value = String(v ?? modeOf({}));
    else if (f.kind === "choice") c.input.value = String(v ?? f.choices?.[0] ?? "");
    else if (f.kind === "text") c.input.value = String(v ?? "");
    else c.input.value = v == null ? "" : String(+((v as number) / (f.scale ?? 1)).toPrecision(12));
  }

  private readValue(c: Control): unknown {
    const f = c.field;
    if (f.kind === "bool") return (c.input as HTMLInputElement).checked;
    if (f.kind === "mode" || f.kind === "text" || f.kind === "choice") return c.input.value;
    const raw = c.input.value.trim();
    if (raw === "") return NaN;
    const n = Number(raw) * (f.scale ?? 1);
    return f.scale ? Math.round(n) : n;
  }

  /** The mode differs from the one loaded. */
  private modeSwitched(): boolean {
    const mode = this.controls.get("mode");
    return !!mode && mode.input.value !== mode.initial;
  }

  /** Enables the port for UDP and TCP. After a switch of mode the port is
   * left empty, meaning the new mode's default (the server picks it), unless
   * the user typed one; switching back shows the loaded port again. */
  private modeChanged(resetPort = true): void {
    const mode = this.controls.get("mode")?.input.value;
    const port = this.controls.get("port");
    if (!port || !mode) return;
    const needs = usedBy("port", mode);
    port.input.disabled = !needs;
    const input = port.input as HTMLInputElement;
    input.placeholder = !needs ? `not used by ${mode.toUpperCase()}` : `default ${DEFAULT_PORT[mode] ?? ""}`;
    if (!needs) {
      port.input.value = "";
      port.error.textContent = "";
      port.input.removeAttribute("aria-invalid");
    } else if (resetPort && !this.portTyped) {
      const initial = port.initial;
      port.input.value = !this.modeSwitched() && typeof initial === "number" && !Number.isNaN(initial) ? String(initial) : "";
      port.error.textContent = "";
      port.input.removeAttribute("aria-invalid");
    }
  }

  /** An empty port field means the mode's default port. */
  private portDefaulted(c: Control): boolean {
    return c.field.key === "port" && c.input.value.trim() === "";
  }

  /** The form's values as settings, for checking. */
  private values(): Settings {
    const out: Settings = {};
    for (const [key, c] of this.controls) {
      if (key === "port" && (c.input.disabled || this.portDefaulted(c))) continue;
      out[key] = this.readValue(c);
    }
    return out;
  }

  private validate(key: string): boolean {
    const c = this.controls.get(key);
    if (!c || c.input.disabled) return true;
    if (this.portDefaulted(c)) {
      c.error.textContent = "";
      c.input.removeAttribute("aria-invalid");
      return true;
    }
    const why = checkField(key, this.readValue(c), { ...this.source, ...this.values() });
    c.error.textContent = why;
    if (why) c.input.setAttribute("aria-invalid", "true");
    else c.input.removeAttribute("aria-invalid");
    return !why;
  }

  /** Checks every field; focuses the first bad one. Returns the settings
   * to send: keys the source had, plus those the user changed. Null when
   * a value is refused. */
  collect(): Settings | null {
    let firstBad: Control | null = null;
    for (const [key, c] of this.controls) {
      if (!this.validate(key) && !firstBad) firstBad = c;
    }
    if (firstBad) {
      firstBad.input.focus();
      return null;
    }
    const out: Settings = { ...this.source };
    const switched = this.modeSwitched();
    for (const [key, c] of this.controls) {
      // a new mode without a port the user typed: leave the port out, so
      // the server gives the mode its default port (UDP 33434, TCP 80)
      if (key === "port" && (c.input.disabled || (switched && (!this.portTyped || this.portDefaulted(c))))) {
        delete out.port;
        continue;
      }
      if (key === "port" && this.portDefaulted(c)) {
        // emptied on the same mode: its default, said explicitly (an edit
        // that leaves the port out keeps the old one)
        out.port = DEFAULT_PORT[this.controls.get("mode")?.input.value ?? ""];
        continue;
      }
      const v = this.readValue(c);
      if (key in this.source || !same(v, c.initial)) out[key] = v;
    }
    return out;
  }

  /** Keys whose values the user changed since load. */
  changed(): string[] {
    const keys: string[] = [];
    for (const [key, c] of this.controls) {
      if (!same(this.readValue(c), c.initial)) keys.push(key);
    }
    return keys;
  }

  focusFirst(): void {
    this.controls.values().next().value?.input.focus();
  }
}

function same(a: unknown, b: unknown): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}
