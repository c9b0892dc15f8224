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

// Small inline icons (no emoji: not every system font has them).
const ICONS = {
  ban: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 2.5a7.5 7.5 0 0 1 6 12L7.5 6A7.4 7.4 0 0 1 12 4.5zM4.5 12c0-1.7.6-3.3 1.5-4.5L16.5 18A7.5 7.5 0 0 1 4.5 12z",
  lock: "M7 10V7a5 5 0 0 1 10 0v3h1.5A1.5 1.5 0 0 1 20 11.5v9a1.5 1.5 0 0 1-1.5 1.5h-13A1.5 1.5 0 0 1 4 20.5v-9A1.5 1.5 0 0 1 5.5 10zm2.5 0h5V7a2.5 2.5 0 0 0-5 0z",
};
export function icon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `icon icon-${name}`);
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}
