// Package tui is the live terminal UI of `pingerplot tui`: an mtr-like
// full-screen table per target, redrawn as the monitor publishes rounds
// and events.
//
// It is one more subscriber of the monitor. Deciding is kept apart from
// doing: Render is a pure function from snapshots and view state to the
// lines of a screen, Decoder and View.Apply turn key bytes into actions
// and view changes, and Run is the short loop that joins them to a
// terminal, which it gets as an interface so tests drive it with a
// reader of keys and a buffer.
//
// It imports the monitor's types and the report package's per-hop
// figures; it must not import anything that stores or serves results
// (web, csvlog, notify, session, recorder, metrics) nor the lab, and the
// monitor must not import it.
package tui
