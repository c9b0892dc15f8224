// Page-wide messages: a polite status line for successes, an alert for failures.
const status = () => document.getElementById("status");
const alertBox = () => document.getElementById("alert");
let timer = 0;

export function say(text) {
  const el = status();
  el.textContent = text;
  el.classList.add("shown");
  clearTimeout(timer);
  timer = setTimeout(() => el.classList.remove("shown"), 4000);
}

export function fail(error) {
  const el = alertBox();
  el.replaceChildren();
  const text = document.createElement("span");
  text.textContent = error && error.message ? error.message : String(error);
  const close = document.createElement("button");
  close.type = "button";
  close.className = "ghost small";
  close.textContent = "Dismiss";
  close.addEventListener("click", clearFailure);
  el.append(text, close);
  el.hidden = false;
}

export function clearFailure() {
  alertBox().hidden = true;
}

// Runs an action from a button: disables it meanwhile and reports failure in words.
export async function busy(button, work) {
  if (button) button.disabled = true;
  try {
    clearFailure();
    return await work();
  } catch (e) {
    fail(e);
    return undefined;
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}
