// Channels: status per channel, blacklist marks, the confirmed status drop-down, the
// consent audit trail, and the one-off send from an approved template.
import { api, idempotencyKey } from "./api.js";
import { openDialog } from "./dialog.js";
import { CHANNELS, channelName, h, icon, reasonName, timeEl, when } from "./dom.js";
import { wrote } from "./profile.js";

const STATUS = { subscribed: "Subscribed", unsubscribed: "Unsubscribed", none: "Never subscribed" };
const SENDABLE = ["email", "sms", "telegram", "viber"];
const OPT_IN_ONLY = ["webPush", "telegram", "viber"]; // re-subscribe only after an own opt-in

const subOf = (ctx, channel) => (ctx.contact.subscriptions || {})[channel] || { status: "none" };

// Why "Subscribed" cannot be chosen by hand, or "" when it can.
function subscribeBlock(ctx, channel) {
  const sub = subOf(ctx, channel);
  if (sub.blacklisted) return `Blacklisted (${reasonName(sub.blacklistReason)}): remove it from the blacklist first.`;
  if (sub.status === "subscribed") return "";
  if (OPT_IN_ONLY.includes(channel)) {
    const ever = (ctx.history[channel] || []).some((e) => e.status === "subscribed");
    return ever ? "" : `Re-subscribe is not available: this person never subscribed to ${channelName(channel)}.`;
  }
  const address = sub.address || (channel === "email" ? ctx.contact.email : ctx.contact.phoneNumber);
  return address ? "" : `The profile has no ${channel === "email" ? "email address" : "phone number"}.`;
}

export function channelsCard(ctx) {
  return h("section", { class: "card", "aria-labelledby": "channels-title" },
    h("h2", { id: "channels-title" }, "Channels"),
    h("div", { class: "channels" }, CHANNELS.map((c) => channelTile(ctx, c))));
}

function channelTile(ctx, channel) {
  const sub = subOf(ctx, channel);
  const block = subscribeBlock(ctx, channel);
  const selectId = `status-${channel}`;
  const hintId = `status-hint-${channel}`;
  const showHint = Boolean(block) && sub.status !== "subscribed";
  const select = h("select", { id: selectId, "aria-describedby": showHint ? hintId : null },
    Object.entries(STATUS).filter(([v]) => v !== "none" || sub.status === "none").map(([value, label]) =>
      h("option", { value, selected: sub.status === value,
        disabled: (value === "subscribed" && block && sub.status !== "subscribed") || value === "none" }, label)));
  select.addEventListener("change", () => changeStatus(ctx, channel, select, sub.status));
  const tile = h("article", {
    class: `channel status-${sub.status}${sub.blacklisted ? " blacklisted" : ""}`,
    "data-channel": channel, "aria-labelledby": `channel-title-${channel}`,
  },
  h("header", {},
    h("h3", { id: `channel-title-${channel}` }, channelName(channel)),
    h("span", { class: `pill ${sub.status}` }, STATUS[sub.status] || sub.status)),
  h("p", { class: "address", title: sub.address || "" }, sub.address || h("span", { class: "muted" }, "no address")),
  sub.blacklisted ? h("p", { class: "blacklist-mark", "data-testid": "blacklist-mark" },
    icon("ban"), h("strong", {}, "Blacklisted"), ` · ${reasonName(sub.blacklistReason)}`,
    sub.blacklistedAt ? [" · ", timeEl(sub.blacklistedAt)] : null) : null,
  h("label", { class: "field compact", for: selectId }, h("span", {}, "Subscription status")),
  select,
  showHint ? h("p", { id: hintId, class: "hint" }, block) : null,
  h("div", { class: "tile-actions" },
    h("button", { type: "button", class: "link", onclick: () => showHistory(ctx, channel) }, "Consent history"),
    sub.blacklisted
      ? h("button", { type: "button", class: "link", onclick: () => unblacklist(ctx, channel) }, "Remove from blacklist")
      : h("button", { type: "button", class: "link", onclick: () => blacklist(ctx, channel) }, "Blacklist")));
  return tile;
}

async function changeStatus(ctx, channel, select, previous) {
  const next = select.value;
  const address = subOf(ctx, channel).address;
  const ok = await openDialog({
    title: `Change ${channelName(channel)} subscription?`,
    body: [h("p", {}, `${channelName(channel)} will change from “${STATUS[previous] || previous}” to “${STATUS[next]}”`,
      address ? ` for ${address}` : "", "."),
    h("p", { class: "hint" }, "The change is recorded in the consent audit trail with your action as its source.")],
    okLabel: `Yes, set to ${STATUS[next]}`,
    action: async () => {
      await api.put(`${ctx.base}/subscriptions/${channel}`, { status: next, confirm: true });
    },
  });
  if (!ok) {
    select.value = previous;
    return;
  }
  await wrote(ctx, `${channelName(channel)} subscription set to ${STATUS[next]}.`);
}

function showHistory(ctx, channel) {
  const entries = [...(ctx.history[channel] || [])].reverse();
  const body = entries.length
    ? h("div", { class: "table-wrap" }, h("table", { class: "plain" },
      h("thead", {}, h("tr", {}, ["When", "Change", "Address", "Reason", "Source"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, entries.map((e) => h("tr", {},
        h("td", {}, when(e.occurredAt)),
        h("td", {}, `${STATUS[e.previousStatus] || e.previousStatus || "—"} → ${STATUS[e.status] || e.status}`),
        h("td", {}, e.address || "—"), h("td", {}, e.reason || "—"),
        h("td", {}, [e.method, e.actor].filter(Boolean).join(" · ") || "—"))))))
    : h("p", { class: "empty" }, "No consent changes recorded for this channel.");
  return openDialog({ title: `${channelName(channel)} consent history`, body, okLabel: "Close", cancelLabel: null, wide: true });
}

function blacklist(ctx, channel) {
  return openDialog({
    title: `Blacklist ${channelName(channel)}?`,
    body: [h("p", {}, `Nothing will be sent to this contact by ${channelName(channel)} and the channel cannot be subscribed until it is removed from the blacklist.`)],
    okLabel: "Blacklist", danger: true,
    action: async () => {
      await api.put(`${ctx.base}/blacklist/${channel}`, { reason: "manual" });
      await wrote(ctx, `${channelName(channel)} blacklisted.`);
    },
  });
}

function unblacklist(ctx, channel) {
  return openDialog({
    title: `Remove ${channelName(channel)} from the blacklist?`,
    body: [h("p", {}, "Only do this when the reason no longer applies, for example the person fixed their mailbox.")],
    okLabel: "Remove from blacklist",
    action: async () => {
      await api.del(`${ctx.base}/blacklist/${channel}`, { reason: "manual" });
      await wrote(ctx, `${channelName(channel)} removed from the blacklist.`);
    },
  });
}

// Why a one-off message cannot go out on this channel, or "" when it can.
function sendBlock(ctx, channel, templates) {
  const sub = subOf(ctx, channel);
  if (sub.blacklisted) return `${channelName(channel)} is blacklisted (${reasonName(sub.blacklistReason)}): messages cannot be sent.`;
  if (sub.status !== "subscribed") return `The contact is not subscribed to ${channelName(channel)}: messages cannot be sent.`;
  if (!templates.length) return `There is no approved ${channelName(channel)} template yet.`;
  return "";
}

export function sendCard(ctx) {
  const approved = (channel) => ctx.templates.filter((t) => t.channel === channel && t.status === "approved");
  const firstOpen = SENDABLE.find((c) => !sendBlock(ctx, c, approved(c)));
  ctx.sendChannel = ctx.sendChannel || firstOpen || "email";
  const channelSelect = h("select", { id: "send-channel" }, SENDABLE.map((c) =>
    h("option", { value: c, selected: c === ctx.sendChannel }, sendBlock(ctx, c, approved(c)) ? `${channelName(c)} (not available)` : channelName(c))));
  const templateSelect = h("select", { id: "send-template" });
  const reason = h("p", { id: "send-reason", class: "hint warn", role: "note" });
  const preview = h("div", { class: "preview", "aria-live": "polite" });
  const button = h("button", { type: "submit", id: "send-button", class: "primary", "aria-describedby": "send-reason" }, "Send message");

  const refresh = () => {
    const channel = channelSelect.value;
    ctx.sendChannel = channel;
    const list = approved(channel);
    const keep = templateSelect.value;
    templateSelect.replaceChildren(...(list.length ? list.map((t) => h("option", { value: t.id }, t.name))
      : [h("option", { value: "" }, "No approved templates")]));
    if (list.some((t) => t.id === keep)) templateSelect.value = keep;
    const block = sendBlock(ctx, channel, list);
    reason.textContent = block;
    reason.hidden = !block;
    button.disabled = Boolean(block);
    templateSelect.disabled = !list.length;
    const t = list.find((x) => x.id === templateSelect.value);
    // The send uses the body in the contact's language when the template has one.
    const lang = ctx.contact.language;
    const localized = t && lang && t.bodies && t.bodies[lang];
    preview.replaceChildren(...(t ? [t.subject ? h("p", { class: "subject" }, t.subject) : null,
      h("p", {}, localized || t.body),
      localized ? h("p", { class: "hint" }, `Version for the contact's language (${lang}).`) : null].filter(Boolean) : []));
  };
  channelSelect.addEventListener("change", refresh);
  templateSelect.addEventListener("change", refresh);

  const form = h("form", { class: "send", "aria-labelledby": "send-title" },
    h("div", { class: "row" },
      h("label", { class: "field" }, h("span", {}, "Channel"), channelSelect),
      h("label", { class: "field grow" }, h("span", {}, "Approved template"), templateSelect)),
    h("p", { class: "hint" }, "Template preview (placeholders are filled in for this contact when sent):"),
    preview, reason, h("div", { class: "actions" }, button));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const channel = channelSelect.value;
    const t = approved(channel).find((x) => x.id === templateSelect.value);
    if (!t) return;
    const to = subOf(ctx, channel).address || "";
    const key = idempotencyKey();
    const ok = await openDialog({
      title: "Send this message?",
      body: [h("p", {}, `“${t.name}” will be sent by ${channelName(channel)}${to ? ` to ${to}` : ""} now.`)],
      okLabel: "Send now",
      action: async () => {
        await api.post(`${ctx.base}/messages`, { channel, templateId: t.id }, { "Idempotency-Key": key });
      },
    });
    if (ok) await wrote(ctx, `Message “${t.name}” is on its way.`);
  });
  refresh();
  return h("section", { class: "card", "aria-labelledby": "send-title" }, h("h2", { id: "send-title" }, "Send a message"), form);
}
