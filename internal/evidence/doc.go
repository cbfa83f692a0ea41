// Package evidence writes the one-file report a user sends to an ISP: a
// self-contained HTML page (no network request when opened) with a
// summary in plain words, the destination's latency and loss over the
// window, the per-hop table, the timelines of the hops that matter, the
// route changes and alerts, the probe settings and where and when it was
// made. Every chart exports as PNG from the page itself.
package evidence
