// A modal yes/no question on a native <dialog>, so focus and Escape work
// as the platform does them.

import { byId, setText } from "../dom";

export function confirmDialog(message: string, ok = "OK", cancel = "Cancel", title = "PingerPlot"): Promise<boolean> {
  const dlg = byId<HTMLDialogElement>("confirm-dialog");
  setText(byId("confirm-title"), title);
  setText(byId("confirm-message"), message);
  const okB = byId<HTMLButtonElement>("confirm-ok");
  const cancelB = byId<HTMLButtonElement>("confirm-cancel");
  setText(okB, ok);
  setText(cancelB, cancel);
  return new Promise((resolve) => {
    const done = (v: boolean) => {
      okB.onclick = null;
      cancelB.onclick = null;
      dlg.onclose = null;
      if (dlg.open) dlg.close();
      resolve(v);
    };
    okB.onclick = () => done(true);
    cancelB.onclick = () => done(false);
    dlg.onclose = () => done(false);
    dlg.showModal();
    okB.focus();
  });
}
