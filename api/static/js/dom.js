// A tiny element builder: h("button", {class: "x", onclick}, "Label"). Text is always set
// as text, never as HTML, so data from the API cannot inject markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const CHANNEL_NAMES = { email: "Email", sms: "SMS", webPush: "Web Push", telegram: "Telegram", viber: "Viber" };
export const CHANNELS = Object.keys(CHANNEL_NAMES);
export const channelName = (c) => CHANNEL_NAMES[c] || c;

const REASONS = { manual: "added manually", hardBounce: "hard bounce", complaint: "spam complaint",
  listUnsubscribe: "list-unsubscribe request" };
export const reasonName = (r) => REASONS[r] || r || "no reason given";

const METHODS = { api: "API", kafka: "Kafka event", import: "import", ui: "profile page" };
export const methodName = (m) => METHODS[m] || m || "—";

// Dates: shown in the marketer's own locale and time zone, with the exact ISO time on hover.
export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function timeEl(iso) {
  return h("time", { datetime: iso || "" , title: iso || "" }, when(iso));
}

export function ago(iso) {
  const ms = Date.now() - new Date(iso).getTime();
  if (!Number.isFinite(ms)) return "";
  const min = Math.round(ms / 60000);
  if (min < 1) return "just now";
  if (min < 60) return `${min} min ago`;
  const hours = Math.round(min / 60);
  if (hours < 24) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

export function fullName(c) {
  const name = [c.firstName, c.lastName].filter(Boolean).join(" ");
  return name || c.email || c.phoneNumber || c.userId || "Unnamed contact";
}

export function initials(c) {
  const parts = [c.firstName, c.lastName].filter(Boolean);
  if (parts.length) return parts.map((p) => p[0]).join("").toUpperCase();
  return (c.email || c.userId || "?")[0].toUpperCase();
}
