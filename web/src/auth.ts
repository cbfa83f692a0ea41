// The per-launch API token. The binary opens the page as /?token=...; the
// page keeps the token in memory and in sessionStorage so a reload (even
// one without the query) keeps working. The address bar keeps it too, so
// a bookmark-free reload works; it is never logged.

const KEY = "pingerplot.token";

export function readToken(): string {
  const fromURL = new URLSearchParams(location.search).get("token");
  if (fromURL) {
    try {
      sessionStorage.setItem(KEY, fromURL);
    } catch {
      // storage disabled: memory is enough for this page's life
    }
    return fromURL;
  }
  try {
    return sessionStorage.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}
