// The page's switchboard: domain drop-down, API key, search, the Contact List and routing.
// Routes live in the hash (#/demo, #/demo/contacts/<id>) so Back and links work.
import { api, apiKey, inDomain, items } from "./api.js";
import { openDialog } from "./dialog.js";
import { clear, fullName, h, timeEl } from "./dom.js";
import { showProfile } from "./profile.js";
import { busy, clearFailure, fail } from "./ui.js";

const $ = (id) => document.getElementById(id);
const PAGE = 20;
const DOMAIN_KEY = "profiles.domain";
const state = { domain: "", cursors: [null], page: 0, search: null };

const domainOf = (d) => d.domain || d.slug || d.name || d.id;

async function loadDomains() {
  const select = $("domain-select");
  let list = [];
  try {
    list = items(await api.domains());
  } catch (e) {
    fail(e);
    if (e.status === 401) askKey();
    return;
  }
  clear(select, list.map((d) => {
    const count = d.contacts ?? d.contactCount ?? d.count;
    const label = count === undefined ? domainOf(d) : `${domainOf(d)} (${count} contact${count === 1 ? "" : "s"})`;
    return h("option", { value: domainOf(d) }, label);
  }));
  if (!list.length) select.append(h("option", { value: "" }, "No domains yet"));
  const wanted = routeParts().domain || localStorage.getItem(DOMAIN_KEY);
  const names = list.map(domainOf);
  select.value = names.includes(wanted) ? wanted : names[0] || "";
  state.domain = select.value;
}

function askKey() {
  const input = h("input", { id: "api-key", type: "password", autocomplete: "off", value: apiKey.get(),
    "aria-describedby": "api-key-hint" });
  return openDialog({
    title: "API key",
    body: [
      h("label", { class: "field" }, h("span", {}, "API key"), input),
      h("p", { id: "api-key-hint", class: "hint" },
        "Sent as a Bearer token with every request and remembered in this browser. Leave empty when the API is open."),
    ],
    okLabel: "Save",
    action: async () => {
      apiKey.set(input.value.trim());
      keyLabel();
      clearFailure();
      await loadDomains();
      route();
    },
  });
}

function keyLabel() {
  $("key-button").textContent = apiKey.get() ? "API key: set" : "API key";
}

function routeParts() {
  const [, domain = "", kind = "", id = ""] = decodeURIComponent(location.hash.slice(1)).split("/");
  return { domain, contactId: kind === "contacts" ? id : "" };
}

function route() {
  const { domain, contactId } = routeParts();
  if (domain && domain !== state.domain && [...$("domain-select").options].some((o) => o.value === domain)) {
    $("domain-select").value = domain;
    state.domain = domain;
  }
  if (state.domain) localStorage.setItem(DOMAIN_KEY, state.domain);
  if (contactId && state.domain) {
    $("search-view").hidden = true;
    $("profile-view").hidden = false;
    showProfile($("profile-view"), state.domain, contactId);
  } else {
    $("profile-view").hidden = true;
    $("search-view").hidden = false;
    document.title = "Contact Profiles";
    loadList();
  }
}

async function loadList() {
  const rows = $("contact-rows");
  if (!state.domain) {
    clear(rows, h("tr", {}, h("td", { colspan: 5, class: "empty" }, "Choose a domain to see its contacts.")));
    return;
  }
  const params = { limit: PAGE, cursor: state.cursors[state.page] || undefined };
  if (state.search) Object.assign(params, { [state.search.kind]: state.search.value });
  $("list-title").textContent = state.search ? "Search results" : "Default Contact List";
  await busy(null, async () => {
    const data = await api.get(inDomain(state.domain, "/contacts"), params);
    const list = items(data);
    state.cursors[state.page + 1] = data && data.nextCursor;
    if (state.search && list.length === 1 && state.page === 0) {
      location.hash = `#/${state.domain}/contacts/${list[0].id}`;
      return;
    }
    clear(rows, list.length ? list.map(row) : h("tr", {}, h("td", { colspan: 5, class: "empty" },
      state.search ? "No contact has this identifier in the domain." : "This Contact List is empty.")));
    $("page-prev").disabled = state.page === 0;
    $("page-next").disabled = !(data && data.nextCursor);
    $("page-label").textContent = `Page ${state.page + 1}`;
  });
}

function row(c) {
  const href = `#/${state.domain}/contacts/${c.id}`;
  return h("tr", {},
    h("td", {}, h("a", { href }, fullName(c))),
    h("td", {}, c.email || "—"),
    h("td", {}, c.phoneNumber || "—"),
    h("td", {}, c.userId || "—"),
    h("td", {}, c.createdAt ? timeEl(c.createdAt) : "—"));
}

function resetPaging() {
  state.cursors = [null];
  state.page = 0;
}

const PLACEHOLDERS = { email: "anna.tamm@example.com", phoneNumber: "+372 5551 2345", userId: "u-1000" };

function wire() {
  $("domain-select").addEventListener("change", (e) => {
    state.domain = e.target.value;
    state.search = null;
    resetPaging();
    location.hash = `#/${state.domain}`;
  });
  $("key-button").addEventListener("click", askKey);
  $("search-kind").addEventListener("change", (e) => {
    $("search-input").placeholder = PLACEHOLDERS[e.target.value];
    $("search-input").inputMode = { email: "email", phoneNumber: "tel", userId: "text" }[e.target.value];
  });
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.search = { kind: $("search-kind").value, value: $("search-input").value.trim() };
    resetPaging();
    loadList();
  });
  $("search-clear").addEventListener("click", () => {
    state.search = null;
    $("search-input").value = "";
    resetPaging();
    loadList();
  });
  $("page-next").addEventListener("click", () => { state.page += 1; loadList(); });
  $("page-prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); loadList(); });
  window.addEventListener("hashchange", route);
}

async function start() {
  wire();
  keyLabel();
  await loadDomains();
  route();
}

start();
