// The public HTTP API (DESIGN §4), nothing else. Every write answers with its log position;
// later reads pass ?minPosition= so what the marketer just did is always on screen.
import { details, explain } from "./errors.js";

const KEY = "profiles.apiKey";

export class ApiError extends Error {
  constructor(status, problem) {
    const code = (problem && problem.code) || (status === 401 ? "unauthorized" : status === 403 ? "forbidden" : "");
    const base = explain(code, status, problem && problem.detail);
    const extra = code === "validation_error" ? details(problem) : "";
    super(extra ? `${base} ${extra}` : base);
    this.status = status;
    this.code = code;
    this.problem = problem;
  }
}

export const apiKey = {
  get: () => localStorage.getItem(KEY) || "",
  set: (value) => (value ? localStorage.setItem(KEY, value) : localStorage.removeItem(KEY)),
};

let position = 0; // highest log position this page has written

export function seen(p) {
  const n = Number(p);
  if (Number.isFinite(n) && n > position) position = n;
}

function headers(extra = {}) {
  const key = apiKey.get();
  // Marks writes made from this page, so profiles show "updated via ui".
  const base = { ...extra, "Profiles-Client": "ui" };
  return key ? { ...base, Authorization: `Bearer ${key}` } : base;
}

export function url(path, params = {}) {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    for (const item of [].concat(v)) u.searchParams.append(k, item);
  }
  return u.pathname + u.search;
}

async function call(method, path, { params, body, extra } = {}) {
  const query = { ...(params || {}) };
  if (method === "GET" && position > 0) query.minPosition = position;
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers: headers({ ...(body !== undefined ? { "Content-Type": "application/json" } : {}), Accept: "application/json", ...extra }),
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, { code: "network" });
  }
  seen(response.headers.get("Profiles-Position"));
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text }; }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  if (data && typeof data === "object" && "position" in data && method !== "GET") seen(data.position);
  return data;
}

// One key per send the marketer confirms: when the answer is lost (a network error shows in
// the dialog) and they press the button again, the service sends nothing twice.
export function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs https off localhost
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export const items = (data) => (Array.isArray(data) ? data : (data && data.items) || []);

export const api = {
  get: (path, params) => call("GET", path, { params }),
  post: (path, body = {}, extra = {}) => call("POST", path, { body, extra }),
  put: (path, body = {}) => call("PUT", path, { body }),
  patch: (path, body = {}) => call("PATCH", path, { body }),
  del: (path, body) => call("DELETE", path, { body }),
  domains: () => call("GET", "/v1/domains"),
};

export const inDomain = (domain, path) => `/v1/domains/${encodeURIComponent(domain)}${path}`;

// A download that carries the API key: a plain link cannot send Authorization.
export async function download(path, filename) {
  let response;
  try {
    response = await fetch(url(path), { headers: headers() });
  } catch {
    throw new ApiError(0, { code: "network" });
  }
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem);
  }
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}
