/**
 * Keeping an HTTP tool's secrets out of what it returns (issue #8). A server
 * that echoes its request (httpbin's /headers, a debug endpoint, an error
 * page quoting the rejected token) would otherwise hand the tool's
 * credentials to the model, and through its result to the run's events,
 * snapshot and stream, where every API key of the workspace can read them.
 */

export const REDACTED = "[redacted]";

/**
 * Shorter values are not searched for: replacing every "abc" of a response
 * would garble it, and a credential that short protects nothing anyway.
 */
export const MIN_SECRET_LENGTH = 6;

/**
 * Literal header values under these names are not treated as secrets: they
 * describe the request, and commonly reappear in responses (an echoed
 * `application/json`). Every other literal value is, as is every `{ env }` one.
 */
const DESCRIPTIVE_HEADERS = new Set([
  "accept",
  "accept-charset",
  "accept-encoding",
  "accept-language",
  "cache-control",
  "content-language",
  "content-type",
  "pragma",
  "user-agent",
  "x-requested-with",
]);

/** True for a header whose literal value is descriptive, not a credential (`Accept`, `X-GitHub-Api-Version`). */
export function isDescriptiveHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return DESCRIPTIVE_HEADERS.has(lower) || lower.endsWith("-version");
}

/** Literal headers dropped, like `{ env }` ones, on a redirect to another origin (as fetch does for Authorization). */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(["authorization", "proxy-authorization", "cookie"]);

/** Replaces secret values, in the forms a response may carry them, with `[redacted]`. */
export class Redactor {
  /** Longest first, so a value is replaced whole before a part of it could be. */
  private readonly forms: string[];

  constructor(values: Iterable<string>) {
    const forms = new Set<string>();
    for (const value of values) for (const form of formsOf(value)) if (form.length >= MIN_SECRET_LENGTH) forms.add(form);
    this.forms = [...forms].sort((a, b) => b.length - a.length);
  }

  /**
   * `cut`: the text was truncated (a size cap), so it may end with the first
   * part of a secret; that part is replaced too.
   */
  redact(text: string, cut = false): string {
    if (this.forms.length === 0) return text;
    let out = text;
    for (const form of this.forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    if (cut) {
      for (const form of this.forms) {
        for (let length = form.length - 1; length >= 3; length--) {
          if (out.endsWith(form.slice(0, length))) return out.slice(0, out.length - length) + REDACTED;
        }
      }
    }
    return out;
  }
}

/**
 * The value itself; its credential without an auth scheme (`Bearer x` → `x`);
 * each of those JSON-escaped (a JSON echo) and URL-encoded (a query echo).
 */
function formsOf(value: string): string[] {
  const bases = [value];
  const scheme = /^[A-Za-z][A-Za-z0-9._~+-]{0,31} +(\S.*)$/.exec(value);
  if (scheme) bases.push(scheme[1]!);
  return bases.flatMap((base) => [base, JSON.stringify(base).slice(1, -1), encodeURIComponent(base)]);
}

/** The URL template with any `user:password@` left out (a default description, an error message). */
export function withoutCredentials(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1");
}

/** The URL template with any `user:password@` shown as `[redacted]@` (a snapshot). */
export function redactCredentials(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, `$1${REDACTED}@`);
}
