// Package diagnose reads a target's recent rounds and says, in one plain
// sentence, what is wrong and where: healthy, loss, latency, jitter, a
// route change, a broken path, a destination silent to this probe type, or
// not enough data yet. It also remarks on single hops (rate-limited
// replies, a hop that never answers, loss carried to the destination, a
// latency step), each with the numbers behind it.
//
// Analyze is pure (the clock is injected), so each rule is tested with
// tables of rounds. Watcher is a monitor subscriber that keeps a window of
// rounds per target, the latest diagnosis of each, and reports a
// diagnosis_changed event when what or where changes, after a few rounds of
// agreement so that it does not flap.
//
// The rules follow how a continuous traceroute is read by hand, and never
// claim more confidence than the data holds (docs/diagnosis.md):
//
//   - Loss at a hop that does not carry to later hops is the router
//     deprioritising its own replies, not loss of traffic.
//   - Loss that starts at hop N and persists to the destination is real and
//     starts on the link into hop N: the hop before it loses significantly
//     less (two-proportion z-test), and no hop from N on does.
//   - A latency (or jitter) rise that appears at hop N and persists to the
//     destination is added there: a change point of the destination's RTTs
//     (rank-sum test) that every answering hop from N on shows too.
//   - The last answering hop followed by silence is where the path breaks,
//     once the silent run is longer than ordinary loss would make it.
//   - A destination that has never answered this probe type while the
//     routers before it do drops it; it is not down.
//   - A miss at TTL n is forward loss only when every higher TTL of the same
//     round missed too; otherwise the probe went on and the reply was lost.
package diagnose
