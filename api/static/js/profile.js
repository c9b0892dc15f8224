// One contact's profile. Everything is re-read after each write (with ?minPosition=), so
// a change anywhere on the page shows up everywhere at once: channels, feed, segments.
import { api, inDomain, items } from "./api.js";
import { channelsCard, sendCard } from "./channels.js";
import { openDialog } from "./dialog.js";
import { CHANNELS, clear, fullName, h, icon, initials, methodName, timeEl } from "./dom.js";
import { feedCard } from "./feed.js";
import { notesCard } from "./notes.js";
import { say } from "./ui.js";
import { variablesCard } from "./variables.js";

let generation = 0;

export async function showProfile(root, domain, id) {
  const mine = ++generation;
  const base = inDomain(domain, `/contacts/${encodeURIComponent(id)}`);
  const ctx = { domain, id, base, root, reload: () => load(ctx, mine) };
  if (root.dataset.contact !== id) {
    clear(root, h("p", { class: "loading" }, "Loading profile…"));
    root.dataset.contact = id;
  }
  await load(ctx, mine);
}

async function load(ctx, mine) {
  let data;
  try {
    const [contact, templates, segments, notes, histories] = await Promise.all([
      api.get(ctx.base),
      api.get(inDomain(ctx.domain, "/templates")).catch(() => []),
      api.get(`${ctx.base}/segments`).catch(() => []),
      api.get(`${ctx.base}/notes`),
      Promise.all(CHANNELS.map((c) => api.get(`${ctx.base}/subscriptions/${c}/history`).catch(() => []))),
    ]);
    data = { contact, templates: items(templates), segments: items(segments), notes: items(notes),
      history: Object.fromEntries(CHANNELS.map((c, i) => [c, items(histories[i])])) };
  } catch (e) {
    if (mine !== generation) return;
    clear(ctx.root, h("nav", { class: "crumbs" }, h("a", { href: `#/${ctx.domain}` }, "← Contact list")),
      h("div", { class: "card" }, h("h1", { id: "profile-name" }, "Profile not available"), h("p", {}, e.message)));
    return;
  }
  if (mine !== generation) return;
  const first = !ctx.rendered;
  Object.assign(ctx, data, { rendered: true });
  render(ctx);
  document.title = `${fullName(ctx.contact)} · Contact Profiles`;
  // Arriving at a profile: start reading at its name, as a new page would.
  if (first) document.getElementById("profile-name").focus({ preventScroll: true });
}

function render(ctx) {
  const focused = document.activeElement && document.activeElement.id;
  const c = ctx.contact;
  clear(ctx.root,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
      h("a", { href: `#/${ctx.domain}` }, "← Contact list"), h("span", { "aria-hidden": "true" }, " / "),
      h("span", { "aria-current": "page" }, fullName(c))),
    h("div", { class: "profile-grid" },
      h("div", { class: "col-left" }, identityCard(ctx), segmentsCard(ctx)),
      h("div", { class: "col-main" },
        channelsCard(ctx), sendCard(ctx), feedCard(ctx),
        h("div", { class: "pair" }, variablesCard(ctx), notesCard(ctx)))));
  const again = focused && document.getElementById(focused);
  if (again) again.focus();
}

function languageName(code) {
  if (!code) return "—";
  try {
    const name = new Intl.DisplayNames(undefined, { type: "language" }).of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch { return code; }
}

function zoneTime(zone) {
  if (!zone) return "—";
  try {
    const now = new Date().toLocaleTimeString(undefined, { timeZone: zone, hour: "2-digit", minute: "2-digit" });
    return `${zone} · ${now} there now`;
  } catch { return zone; }
}

function birthday(value) {
  if (!value) return "—";
  const d = new Date(`${value}T00:00:00`);
  return Number.isNaN(d.getTime()) ? value : d.toLocaleDateString(undefined, { dateStyle: "long" });
}

const row = (term, value, attrs = {}) => [h("dt", {}, term), h("dd", attrs, value)];

function avatar(c) {
  const fallback = h("span", { class: "avatar initials", "aria-hidden": "true" }, initials(c));
  if (!c.avatarLink) return fallback;
  // Avatars are external links: when one cannot load, the initials stand in.
  const img = h("img", { class: "avatar", src: c.avatarLink, alt: `Avatar of ${fullName(c)}`, referrerpolicy: "no-referrer" });
  img.addEventListener("error", () => img.replaceWith(fallback));
  return img;
}

function identityCard(ctx) {
  const c = ctx.contact;
  return h("section", { class: "card identity", "aria-labelledby": "profile-name" },
    h("div", { class: "who" }, avatar(c),
      h("div", {},
        h("h1", { id: "profile-name", tabindex: -1 }, fullName(c)),
        h("button", { type: "button", id: "edit-avatar", class: "link", onclick: () => editAvatar(ctx) }, "Edit avatar link"))),
    h("h2", { class: "sub" }, "General info"),
    h("dl", { class: "facts" },
      row("First name", c.firstName || "—"), row("Last name", c.lastName || "—"),
      row("Language", languageName(c.language)), row("Time zone", zoneTime(c.timezone)),
      row("Birthday", birthday(c.birthday))),
    h("button", { type: "button", id: "edit-info", class: "ghost small", onclick: () => editInfo(ctx) }, "Edit general info"),
    h("h2", { class: "sub" }, "Identifiers"),
    h("dl", { class: "facts" },
      row("User ID", c.userId || "—", { "data-field": "userId" }),
      row("Email", c.email || "—", { "data-field": "email" }),
      row("Phone number", c.phoneNumber || "—", { "data-field": "phoneNumber" })),
    h("h2", { class: "sub" }, icon("lock"), "System fields",
      h("span", { class: "badge muted" }, "read-only")),
    h("dl", { class: "facts readonly", "aria-label": "Read-only system fields" },
      row("Created", timeEl(c.createdAt)), row("Created via", methodName(c.createdMethod)),
      row("Updated", timeEl(c.updatedAt)), row("Updated via", methodName(c.updatedMethod))));
}

function segmentsCard(ctx) {
  const list = ctx.segments;
  return h("section", { class: "card", "aria-labelledby": "segments-title" },
    h("h2", { id: "segments-title" }, "Segments ", h("span", { class: "count" }, String(list.length))),
    list.length
      ? h("ul", { class: "segments" }, list.map((s) => h("li", {}, h("span", { class: "seg-name" }, s.name),
        h("span", { class: "hint" }, "since ", timeEl(s.since)))))
      : h("p", { class: "empty" }, "Not in any segment right now."));
}

// After a write: remember the position (api.js does) and re-read the whole profile.
export async function wrote(ctx, message) {
  say(message);
  await ctx.reload();
}

function editAvatar(ctx) {
  const input = h("input", { id: "avatar-url", type: "url", required: true, maxlength: 2048,
    value: ctx.contact.avatarLink || "", placeholder: "https://…", "aria-describedby": "avatar-hint" });
  return openDialog({
    title: "Edit avatar link",
    body: [h("label", { class: "field" }, h("span", {}, "Image link (http or https)"), input),
      h("p", { id: "avatar-hint", class: "hint" }, "The picture stays where it is hosted; the profile keeps only the link.")],
    okLabel: "Save link",
    action: async () => {
      await api.put(`${ctx.base}/avatar`, { url: input.value.trim() });
      await wrote(ctx, "Avatar link saved.");
    },
  });
}

function editInfo(ctx) {
  const c = ctx.contact;
  const field = (label, name, attrs = {}) => h("label", { class: "field" }, h("span", {}, label),
    h("input", { id: `info-${name}`, name, value: c[name] || "", ...attrs }));
  const body = [
    field("First name", "firstName", { autocomplete: "off" }), field("Last name", "lastName", { autocomplete: "off" }),
    field("Language (ISO 639-1, e.g. en)", "language", { maxlength: 2, pattern: "[A-Za-z]{2}" }),
    field("Time zone (e.g. Europe/Tallinn)", "timezone"), field("Birthday", "birthday", { type: "date" }),
  ];
  return openDialog({
    title: "Edit general info", body, okLabel: "Save",
    action: async () => {
      const patch = {};
      for (const label of body) {
        const input = label.querySelector("input");
        const value = input.value.trim();
        if (value !== (c[input.name] || "")) patch[input.name] = value || null;
      }
      if (!Object.keys(patch).length) return;
      await api.patch(ctx.base, patch);
      await wrote(ctx, "General info saved.");
    },
  });
}
