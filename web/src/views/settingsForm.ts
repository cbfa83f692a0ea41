// A form over Settings, built from settings.ts's FIELDS: shared by the
// Engine… dialog (the defaults for new targets) and a target's Edit
// settings… dialog. Values are checked as they are typed; the reason shows
// under the field.

import { h } from "../dom";
import { BUILTIN, DEFAULT_PORT, FIELDS, checkField, effective, type Field } from "../settings";
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
    } else if (f.kind === "bool") {
      input = h("input", { id, type: "checkbox" });
    } else {
      input = h("input", {
        id,
        type: f.kind === "text" ? (f.key === "webhook_url" ? "url" : "text") : "number",
        step: f.kind === "int" ? "1" : f.step ?? "any",
        inputmode: f.kind === "int" ? "numeric" : f.kind === "number" ? "decimal" : null,
        spellcheck: "false",
        autocomplete: "off",
        placeholder: f.key === "webhook_url" ? "https://hooks.example/…" : f.key === "log_path" ? "pingerplot-log.csv" : null,
      });
    }
    input.setAttribute("data-testid", `setting-${f.key}`);
    input.setAttribute("aria-describedby", errId);
    const error = h("div", { class: "field-error", id: errId, "data-testid": `setting-error-${f.key}`, role: "status" });
    this.controls.set(f.key, { field: f, input, error, initial: undefined });
    input.addEventListener("input", () => this.validate(f.key));
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
    else if (f.kind === "mode") c.input.value = String(v ?? BUILTIN.mode);
    else if (f.kind === "text") c.input.value = String(v ?? "");
    else c.input.value = v == null ? "" : String(+((v as number) / (f.scale ?? 1)).toPrecision(12));
  }

  private readValue(c: Control): unknown {
    const f = c.field;
    if (f.kind === "bool") return (c.input as HTMLInputElement).checked;
    if (f.kind === "mode" || f.kind === "text") return c.input.value;
    const raw = c.input.value.trim();
    if (raw === "") return NaN;
    const n = Number(raw) * (f.scale ?? 1);
    return f.scale ? Math.round(n) : n;
  }

  private modeChanged(resetPort = true): void {
    const mode = this.controls.get("mode")?.input.value;
    const port = this.controls.get("port");
    if (!port || !mode) return;
    const needs = mode === "udp" || mode === "tcp";
    port.input.disabled = !needs;
    (port.input as HTMLInputElement).placeholder = needs ? "" : "not used by ICMP";
    if (!needs) {
      port.input.value = "";
      port.error.textContent = "";
    } else if (resetPort && (port.input.value === "" || port.input.value === String(DEFAULT_PORT.udp) || port.input.value === String(DEFAULT_PORT.tcp))) {
      port.input.value = String(mode === "udp" ? DEFAULT_PORT.udp : DEFAULT_PORT.tcp);
    }
  }

  /** The form's values as settings, for checking. */
  private values(): Settings {
    const out: Settings = {};
    for (const [key, c] of this.controls) {
      if (key === "port" && c.input.disabled) continue;
      out[key] = this.readValue(c);
    }
    return out;
  }

  private validate(key: string): boolean {
    const c = this.controls.get(key);
    if (!c || c.input.disabled) return true;
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
    for (const [key, c] of this.controls) {
      if (key === "port" && c.input.disabled) {
        delete out.port;
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
