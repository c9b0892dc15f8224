// Problem-detail codes (DESIGN §4) in words a marketer understands.
const WORDS = {
  unauthorized: "This page needs a valid API key. Enter it under “API key” at the top.",
  forbidden: "Your API key does not give access to this domain.",
  contact_not_found: "This contact is no longer in the Default Contact List.",
  template_not_found: "That template no longer exists. Pick another one.",
  segment_not_found: "That segment no longer exists.",
  note_not_found: "That note was already deleted.",
  message_not_found: "The original message could not be found.",
  not_found: "That item could not be found. It may have been removed.",
  identifier_taken: "Another contact already uses this email, phone number or user ID.",
  read_only_field: "That field is kept by the system and cannot be changed.",
  confirmation_required: "Please confirm the change before it is applied.",
  no_prior_subscription: "This person never subscribed to this channel, so they cannot be re-subscribed by hand. They have to opt in themselves.",
  blacklisted: "This channel is blacklisted for the contact. Nothing can be sent or subscribed until it is taken off the blacklist.",
  not_subscribed: "The contact is not subscribed to this channel, so messages cannot be sent to it.",
  no_address: "The profile has no address for this channel.",
  template_not_approved: "This template is not approved yet. Only approved templates can be sent.",
  template_channel_mismatch: "This template belongs to a different channel.",
  channel_not_sendable: "One-off messages cannot be sent on this channel.",
  not_a_message: "Only messages can be resent.",
  notes_limit: "A contact can have at most 5 notes. Delete one to add another.",
  validation_error: "Some values are not valid.",
  invalid_domain: "That domain name is not valid.",
  invalid_template: "The template could not be rendered.",
  projection_lagging: "The change is saved, but the page is still catching up. Refresh in a moment.",
  activity_not_found: "That feed entry could not be found.",
  read_model_unavailable: "Profiles cannot be read right now. Please try again in a moment.",
  payload_too_large: "That is too much text to save at once.",
  network: "The server cannot be reached. Check your connection and try again.",
};

export function explain(code, status, detail) {
  if (WORDS[code]) return WORDS[code];
  if (status === 401) return WORDS.unauthorized;
  if (status === 403) return WORDS.forbidden;
  if (status === 404) return WORDS.not_found;
  if (status >= 500) return "The server had a problem. Please try again in a moment.";
  return detail || "Something went wrong. Please try again.";
}

// Field-level detail of a 422, e.g. "url: must be an http(s) link", kept short.
export function details(problem) {
  const list = problem && (problem.errors || problem.invalidParams || problem.invalid_params);
  if (Array.isArray(list) && list.length) {
    return list.slice(0, 3).map((e) => {
      const where = Array.isArray(e.loc) ? e.loc.filter((p) => p !== "body").join(".") : (e.name || e.field || "");
      const msg = e.msg || e.message || e.reason || "";
      return where ? `${where}: ${msg}` : msg;
    }).join("; ");
  }
  return problem && typeof problem.detail === "string" ? problem.detail : "";
}
