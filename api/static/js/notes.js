// Internal notes: at most five, with author and time; deletion is permanent.
import { api, idempotencyKey } from "./api.js";
import { openDialog } from "./dialog.js";
import { h, timeEl } from "./dom.js";
import { wrote } from "./profile.js";
import { busy } from "./ui.js";

const LIMIT = 5;
const AUTHOR = "profiles.author";

export function notesCard(ctx) {
  const notes = ctx.notes;
  const full = notes.length >= LIMIT;
  const text = h("textarea", { id: "note-text", rows: 3, maxlength: 2000, required: true, disabled: full,
    "aria-describedby": "note-limit" });
  const author = h("input", { id: "note-author", required: true, maxlength: 120, autocomplete: "name",
    value: localStorage.getItem(AUTHOR) || "", disabled: full });
  const counter = h("span", { class: "hint", "aria-hidden": "true" }, "0 / 2000");
  // One key per note as written: pressing "Add note" again after a lost answer adds it
  // once; editing the text or the author makes it another note.
  let key = null;
  text.addEventListener("input", () => { counter.textContent = `${text.value.length} / 2000`; key = null; });
  author.addEventListener("input", () => { key = null; });
  const submit = h("button", { type: "submit", id: "note-add", class: "primary", disabled: full }, "Add note");
  const form = h("form", { class: "note-form" },
    h("label", { class: "field" }, h("span", {}, "New note"), text), counter,
    h("label", { class: "field" }, h("span", {}, "Your name (author)"), author),
    h("p", { id: "note-limit", class: full ? "hint warn" : "hint" },
      full ? "This contact has 5 notes, the most allowed. Delete one to add another." : `${LIMIT - notes.length} of ${LIMIT} notes left.`),
    h("div", { class: "actions" }, submit));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    localStorage.setItem(AUTHOR, author.value.trim());
    busy(submit, async () => {
      key = key || idempotencyKey();
      await api.post(`${ctx.base}/notes`, { text: text.value.trim(), author: author.value.trim() },
        { "Idempotency-Key": key });
      await wrote(ctx, "Note added.");
      const again = document.getElementById("note-text");
      if (again && !again.disabled) again.focus();
    });
  });
  return h("section", { class: "card", "aria-labelledby": "notes-title" },
    h("h2", { id: "notes-title" }, "Notes ", h("span", { class: "count", id: "notes-count" }, `${notes.length}/${LIMIT}`)),
    notes.length ? h("ul", { class: "notes" }, notes.map((n) => noteEl(ctx, n))) : h("p", { class: "empty" }, "No notes yet."),
    form);
}

function noteEl(ctx, note) {
  return h("li", { class: "note", "data-note": note.id },
    h("p", { class: "note-text" }, note.text),
    h("div", { class: "note-meta" },
      h("span", {}, note.author || "unknown", " · ", timeEl(note.createdAt)),
      h("button", { type: "button", class: "link danger-text", "aria-label": `Delete note by ${note.author || "unknown"}`,
        onclick: () => remove(ctx, note) }, "Delete")));
}

function remove(ctx, note) {
  return openDialog({
    title: "Delete this note permanently?",
    body: [h("p", {}, h("strong", {}, "This cannot be undone."), " The note’s text is destroyed and cannot be recovered by anyone."),
      h("blockquote", {}, note.text)],
    okLabel: "Delete permanently", danger: true,
    action: async () => {
      await api.del(`${ctx.base}/notes/${encodeURIComponent(note.id)}`);
      await wrote(ctx, "Note deleted permanently.");
    },
  });
}
