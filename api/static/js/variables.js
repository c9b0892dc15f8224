// Contact variables: search, inline edit, delete, add. Values keep their type
// (text, number, yes/no, date) because templates and segments compare them.
import { api, items } from "./api.js";
import { openDialog } from "./dialog.js";
import { h } from "./dom.js";
import { wrote } from "./profile.js";
import { busy, fail } from "./ui.js";

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const kindOf = (v) => (typeof v === "boolean" ? "boolean" : typeof v === "number" ? "number" : DATE.test(String(v)) ? "date" : "text");
const show = (v) => (typeof v === "boolean" ? (v ? "yes" : "no") : String(v));

function parse(kind, raw) {
  if (kind === "number") {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) throw new Error("Enter a number, for example 42 or 3.5.");
    return n;
  }
  if (kind === "boolean") return raw === "true";
  return raw;
}

function valueInput(kind, value, id) {
  if (kind === "boolean") {
    return h("select", { id }, h("option", { value: "true", selected: value === true }, "yes"),
      h("option", { value: "false", selected: value === false }, "no"));
  }
  const type = kind === "number" ? "number" : kind === "date" ? "date" : "text";
  return h("input", { id, type, step: kind === "number" ? "any" : null, value: value ?? "", required: kind !== "text" });
}

export function variablesCard(ctx) {
  const rows = h("tbody", { id: "variable-rows" });
  const search = h("input", { id: "variable-search", type: "search", value: ctx.varSearch || "", autocomplete: "off",
    placeholder: "name or value" });
  const load = async () => {
    try {
      const data = await api.get(`${ctx.base}/variables`, { search: ctx.varSearch || undefined });
      const list = items(data);
      rows.replaceChildren(...(list.length ? list.map((v) => row(ctx, v))
        : [h("tr", {}, h("td", { colspan: 3, class: "empty" }, ctx.varSearch ? "No variable matches." : "No variables yet."))]));
    } catch (e) { fail(e); }
  };
  let timer = 0;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { ctx.varSearch = search.value.trim(); load(); }, 250);
  });
  load();
  return h("section", { class: "card", "aria-labelledby": "variables-title" },
    h("h2", { id: "variables-title" }, "Contact variables"),
    h("label", { class: "field" }, h("span", {}, "Search variables"), search),
    h("div", { class: "table-wrap" }, h("table", { class: "plain variables" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Value"),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))), rows)),
    addForm(ctx));
}

function row(ctx, variable) {
  const tr = h("tr", { "data-variable": variable.name },
    h("th", { scope: "row" }, variable.name),
    h("td", { class: "value" }, show(variable.value)),
    h("td", { class: "row-actions" },
      h("button", { type: "button", class: "link", "aria-label": `Edit ${variable.name}`, onclick: () => edit(ctx, tr, variable) }, "Edit"),
      h("button", { type: "button", class: "link danger-text", "aria-label": `Delete ${variable.name}`,
        onclick: () => remove(ctx, variable) }, "Delete")));
  return tr;
}

function edit(ctx, tr, variable) {
  const kind = kindOf(variable.value);
  const id = `edit-var-${variable.name}`;
  const input = valueInput(kind, variable.value, id);
  const save = h("button", { type: "submit", class: "primary small" }, "Save");
  const cancel = h("button", { type: "button", class: "ghost small" }, "Cancel");
  const form = h("form", { class: "inline-edit" },
    h("label", { class: "visually-hidden", for: id }, `New value of ${variable.name}`), input, save, cancel);
  const cell = tr.querySelector(".value");
  const actions = tr.querySelector(".row-actions");
  const before = [...cell.childNodes];
  cell.replaceChildren(form);
  actions.hidden = true;
  const restore = () => { cell.replaceChildren(...before); actions.hidden = false; actions.querySelector("button").focus(); };
  cancel.addEventListener("click", restore);
  form.addEventListener("keydown", (e) => { if (e.key === "Escape") restore(); });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(save, async () => {
      await api.put(`${ctx.base}/variables/${encodeURIComponent(variable.name)}`, { value: parse(kind, input.value) });
      await wrote(ctx, `Variable ${variable.name} saved.`);
    });
  });
  input.focus();
}

function remove(ctx, variable) {
  return openDialog({
    title: `Delete variable “${variable.name}”?`,
    body: [h("p", {}, "Templates that use it will render it empty.")],
    okLabel: "Delete", danger: true,
    action: async () => {
      await api.del(`${ctx.base}/variables/${encodeURIComponent(variable.name)}`);
      await wrote(ctx, `Variable ${variable.name} deleted.`);
    },
  });
}

function addForm(ctx) {
  const name = h("input", { id: "var-name", required: true, maxlength: 64, pattern: NAME.source.slice(1, -1), autocomplete: "off",
    title: "Starts with a letter; letters, digits and _ only" });
  const kind = h("select", { id: "var-kind" }, [["text", "Text"], ["number", "Number"], ["boolean", "Yes / no"], ["date", "Date"]]
    .map(([v, l]) => h("option", { value: v }, l)));
  let value = valueInput("text", "", "var-value");
  const valueLabel = h("label", { class: "field grow" }, h("span", {}, "Value"), value);
  kind.addEventListener("change", () => {
    const next = valueInput(kind.value, kind.value === "boolean" ? true : "", "var-value");
    value.replaceWith(next);
    value = next;
  });
  const submit = h("button", { type: "submit", class: "ghost" }, "Add variable");
  const form = h("form", { class: "row add-variable", "aria-label": "Add a variable" },
    h("label", { class: "field" }, h("span", {}, "Name"), name),
    h("label", { class: "field" }, h("span", {}, "Type"), kind), valueLabel, h("div", { class: "actions" }, submit));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(submit, async () => {
      await api.put(`${ctx.base}/variables/${encodeURIComponent(name.value.trim())}`, { value: parse(kind.value, value.value) });
      await wrote(ctx, `Variable ${name.value.trim()} added.`);
    });
  });
  return form;
}
