// Escaping for HTML text, attributes and the inline SVG: every string in a report came from an
// experiment file, a journal or a service's answer, and none of it may become markup or script.

// Control characters are not allowed in HTML text; they are shown as the replacement character.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uD800-\uDFFF]/gu;

export function escapeHtml(text: string): string {
  return text
    .replace(CONTROL, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}
