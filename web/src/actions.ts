// What the views may ask for; app.ts implements it.

export interface Actions {
  selectTarget(id: string): void;
  /** null follows the destination again */
  selectHop(ttl: number | null): void;
  pause(id: string): void;
  resume(id: string): void;
  remove(id: string): void;
  editTarget(id: string): void;
  exportCSV(id: string): void;
  targetMenu(id: string, x: number, y: number, opener: HTMLElement): void;
  hopMenu(ttl: number, x: number, y: number, opener: HTMLElement): void;
  /** Shows the past window [from, to) (Unix seconds) from the history. */
  zoom(from: number, to: number): void;
}
