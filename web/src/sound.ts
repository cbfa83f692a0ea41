// The alert beep (Web Audio: two short tones) and, only when the user opts
// in, a browser notification.

let ctx: AudioContext | null = null;

/** Creates or resumes the audio context; browsers allow that only during
 * a user gesture, so the page calls it on the first click or key. */
export function unlockAudio(): void {
  try {
    if (!ctx) ctx = new AudioContext();
    if (ctx.state === "suspended") void ctx.resume();
  } catch {
    ctx = null;
  }
}

export function beep(): void {
  if (!ctx) unlockAudio();
  if (!ctx || ctx.state !== "running") return;
  const t = ctx.currentTime;
  for (const [start, freq] of [[0, 880], [0.22, 660]] as const) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t + start);
    gain.gain.exponentialRampToValueAtTime(0.25, t + start + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + start + 0.18);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t + start);
    osc.stop(t + start + 0.2);
  }
}

const NOTIFY_KEY = "pingerplot.notify";

export function notifyWanted(): boolean {
  try {
    return localStorage.getItem(NOTIFY_KEY) === "1" && "Notification" in window && Notification.permission === "granted";
  } catch {
    return false;
  }
}

/** Asks for permission (only called from the user's click); returns
 * whether notifications are now on. */
export async function setNotify(on: boolean): Promise<boolean> {
  if (!("Notification" in window)) return false;
  if (on && Notification.permission !== "granted") {
    const p = await Notification.requestPermission();
    on = p === "granted";
  }
  try {
    localStorage.setItem(NOTIFY_KEY, on ? "1" : "0");
  } catch {
    // remembered for this page only
  }
  return on;
}

export function notify(title: string, body: string): void {
  if (!notifyWanted()) return;
  try {
    new Notification(title, { body, tag: `pingerplot-${title}` });
  } catch {
    // some browsers allow notifications only from a service worker
  }
}
