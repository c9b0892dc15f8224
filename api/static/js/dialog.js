// One modal <dialog> for confirmations, small forms and the feed's Info view. The native
// element traps focus and closes on Escape; focus goes back to whatever opened it.
import { clear } from "./dom.js";

const $ = (id) => document.getElementById(id);

/**
 * Opens the dialog and resolves true when the action succeeded, false when cancelled.
 * `action` runs on OK; if it throws, its message is shown in the dialog, which stays open.
 */
export function openDialog({ title, body = [], okLabel = "OK", cancelLabel = "Cancel", danger = false, action, wide = false }) {
  const dialog = $("dialog");
  const form = $("dialog-form");
  const ok = $("dialog-ok");
  const cancel = $("dialog-cancel");
  const error = $("dialog-error");
  const opener = document.activeElement;
  $("dialog-title").textContent = title;
  clear($("dialog-body"), body);
  error.hidden = true;
  ok.textContent = okLabel;
  ok.className = danger ? "danger" : "primary";
  ok.disabled = false;
  cancel.hidden = cancelLabel === null;
  cancel.textContent = cancelLabel || "Cancel";
  dialog.classList.toggle("wide", wide);

  return new Promise((resolve) => {
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      form.removeEventListener("submit", onSubmit);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
      resolve(result);
    };
    const onSubmit = async (event) => {
      event.preventDefault();
      if (!action) return finish(true);
      ok.disabled = true;
      error.hidden = true;
      try {
        await action();
        finish(true);
      } catch (e) {
        error.textContent = e.message || String(e);
        error.hidden = false;
        ok.disabled = false;
      }
    };
    const onCancel = () => finish(false);
    const onClose = () => finish(false);
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    const first = $("dialog-body").querySelector("input, select, textarea");
    (first || (danger ? cancel : ok)).focus();
  });
}
