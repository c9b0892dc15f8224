// The activity feed: last 30 days, newest first, filter by type, Info and Resend per
// entry, and the complete history as a download.
import { ApiError, api, apiKey, download, idempotencyKey, items } from "./api.js";
import { openDialog } from "./dialog.js";
import { ago, h, when } from "./dom.js";
import { wrote } from "./profile.js";
import { busy, fail } from "./ui.js";

const TYPES = {
  "message.sent": "Message sent", "message.resent": "Message resent", "message.status": "Message status",
  "subscription.changed": "Subscription changed", "blacklist.added": "Blacklisted", "blacklist.removed": "Blacklist removed",
  activity: "Custom activity", "contact.created": "Contact created", "contact.updated": "Profile updated",
  "contact.removed": "Contact removed", "note.added": "Note added", "note.deleted": "Note deleted",
  "segment.entered": "Entered segment", "segment.exited": "Left segment",
};
const RESENDABLE = ["message.sent", "message.resent"];
const PAGE = 25;

const typeName = (t) => TYPES[t] || t;
const family = (t) => (t || "").split(".")[0];

export function feedCard(ctx) {
  // A scrolling region must be reachable by keyboard to be scrolled without a mouse.
  const list = h("ol", { class: "feed", id: "feed", "aria-busy": "true", tabindex: 0, "aria-labelledby": "feed-title" });
  const more = h("button", { type: "button", id: "feed-more", class: "ghost", hidden: true }, "Load older entries");
  const filter = h("select", { id: "feed-type" }, h("option", { value: "" }, "All types"),
    Object.entries(TYPES).map(([value, label]) => h("option", { value, selected: ctx.feedType === value }, label)));
  const exportPath = `${ctx.base}/activity/export?format=csv`;
  const exportLink = h("a", { href: exportPath, id: "export-history", class: "button ghost", download: `activity-${ctx.id}.csv` },
    "Export full history (CSV)");
  exportLink.addEventListener("click", (e) => {
    // With an API key the download must carry Authorization, which a plain link cannot.
    if (!apiKey.get()) return;
    e.preventDefault();
    busy(exportLink, () => download(exportPath, `activity-${ctx.id}.csv`));
  });
  let cursor = null;
  const load = async (append) => {
    list.setAttribute("aria-busy", "true");
    try {
      const data = await api.get(`${ctx.base}/activity`, { days: 30, limit: PAGE, type: ctx.feedType || undefined,
        cursor: append ? cursor : undefined });
      const entries = items(data);
      cursor = data && data.nextCursor;
      if (!append) list.replaceChildren();
      list.append(...entries.map((e) => entryEl(ctx, e)));
      if (!list.children.length) list.append(h("li", { class: "empty" }, "Nothing happened in the last 30 days."));
      more.hidden = !cursor;
    } catch (e) {
      fail(e);
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  };
  filter.addEventListener("change", () => { ctx.feedType = filter.value; load(false); });
  more.addEventListener("click", () => busy(more, () => load(true)));
  load(false);
  return h("section", { class: "card", "aria-labelledby": "feed-title" },
    h("div", { class: "card-head" },
      h("h2", { id: "feed-title" }, "Activity feed ", h("span", { class: "muted small" }, "last 30 days")),
      h("div", { class: "row" }, h("label", { class: "inline-field" }, h("span", {}, "Type"), filter), exportLink)),
    list, more,
    h("p", { class: "hint" }, "The feed shows the last 30 days. The export holds the complete history."));
}

function entryEl(ctx, entry) {
  const message = RESENDABLE.includes(entry.type);
  return h("li", { class: `entry fam-${family(entry.type)}`, "data-type": entry.type, "data-id": entry.id },
    h("span", { class: "dot", "aria-hidden": "true" }),
    h("div", { class: "entry-main" },
      h("div", { class: "entry-top" },
        h("span", { class: "type" }, typeName(entry.type)),
        h("time", { datetime: entry.occurredAt, title: entry.occurredAt }, `${when(entry.occurredAt)} · ${ago(entry.occurredAt)}`)),
      h("p", { class: "summary" }, entry.summary || "")),
    h("div", { class: "entry-actions" },
      h("button", { type: "button", class: "ghost small", "aria-label": `Info: ${typeName(entry.type)}, ${when(entry.occurredAt)}`,
        onclick: () => info(ctx, entry) }, "Info"),
      message ? h("button", { type: "button", class: "ghost small", "aria-label": `Resend: ${entry.summary || "message"}`,
        onclick: () => resend(ctx, entry) }, "Resend") : null));
}

function detailRows(value, path = []) {
  if (value === null || typeof value !== "object") return [[path, value === null ? "—" : String(value)]];
  return Object.entries(value).flatMap(([k, v]) => detailRows(v, [...path, k]));
}

// "segmentName" → "Segment name"; nested keys read "Properties › value".
const words = (key) => String(key).replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/_/g, " ").toLowerCase()
  .replace(/^./, (c) => c.toUpperCase()).replace(/\bid\b/gi, "ID");

async function info(ctx, entry) {
  let full = entry;
  try {
    full = await api.get(`${ctx.base}/activity/${encodeURIComponent(entry.id)}`);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    fail(e);
    return;
  }
  const { id, type, occurredAt, summary, data, ...rest } = full || {};
  const rows = [
    ["What", typeName(type)], ["When", `${when(occurredAt)} (${occurredAt})`], ["Summary", summary || "—"],
    ...detailRows(data || {}).map(([path, v]) => [path.map(words).join(" › "), v]),
    ...detailRows(rest).map(([path, v]) => [path.map(words).join(" › "), v]),
    ["Entry ID", id],
  ];
  return openDialog({
    title: `${typeName(type)} · ${when(occurredAt)}`,
    body: [h("dl", { class: "facts info" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h("details", {}, h("summary", {}, "Raw event data (JSON)"), h("pre", {}, JSON.stringify(full, null, 2)))],
    okLabel: "Close", cancelLabel: null, wide: true,
  });
}

async function resend(ctx, entry) {
  const key = idempotencyKey();
  const ok = await openDialog({
    title: "Resend this message?",
    body: [h("p", {}, "Exactly the same content will be sent again:"), h("blockquote", {}, entry.summary || "")],
    okLabel: "Resend now",
    action: async () => {
      await api.post(`${ctx.base}/activity/${encodeURIComponent(entry.id)}/resend`, {}, { "Idempotency-Key": key });
    },
  });
  if (ok) await wrote(ctx, "Message resent.");
}
