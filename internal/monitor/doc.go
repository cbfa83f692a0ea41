// Package monitor watches many targets at once. It owns one tracer per
// target and the goroutine that runs its rounds, folds every round into the
// target's per-hop statistics, history, route-change and alert state, and
// publishes immutable snapshots and events to subscribers. Everything that
// shows or stores results (the UIs, the CSV log, sessions, notifiers) sees
// only what this package publishes.
//
// It imports the probe interface and the tracer below it and the pure
// packages hopstat and alert; it must not import anything that shows or
// stores results (cli, csvlog, session, web, notifiers).
//
// # Rounds
//
// Each target has one goroutine while Run runs, so its rounds never
// overlap. Rounds are numbered from 1 and the numbers continue after a
// session is restored. A round starts Interval after the planned start of
// the previous one, or at once if that moment has passed (a round that
// lasted longer than the interval delays the next one; it does not start a
// second one beside it). A round that starts more than a tenth of its
// interval late is counted in Stats().Missed, and the schedule moves to
// its actual start. First rounds are spread over the interval by a hash of
// the target's ID, so hundreds of targets do not send at once. A paused
// target sends nothing after the round in flight and keeps its history; a
// resumed one starts a round at once. New settings take effect at the next
// round, except NoNames, which changes nothing that is probed and applies
// at once without an event.
//
// # Per-target state
//
// The fold (state.apply) is pure: it takes the time and the round and
// returns the snapshot and the events. Per hop it keeps hopstat's
// statistics, with every responder at a TTL counted apart, percentiles
// over the last min(History, PercentileWindow) replies, and a history of
// the samples of the last Settings.History rounds (16 bytes per sample).
// Memory per target is bounded by Settings.History and these windows; it
// does not grow with the running time.
//
// The destination's quality is judged on its last Alert.Window probes, one
// per round: its reply, or a loss when the round ended without one (a
// round cut short because the path grew past the last known end asked the
// destination nothing and is skipped). See package alert for the raise and
// clear rules and the MOS. A destination that has not answered in its
// first NoAnswerRounds rounds is NoAnswer, with one NoAnswerEvent ("the
// destination does not answer this probe type"); it never raises alerts
// until it answers. A new mode or port asks a new question: whether the
// destination answers, its window and its raised alerts (cleared with an
// event) start over. A round in which the local system refused every
// probe (no route, no permission) asked the network nothing: it is not a
// loss and does not count towards NoAnswer; the target is CannotSend until
// a probe leaves again, with one SendFailed event naming the cause and one
// SendResumed when it ends. A target's State is, by precedence: Paused,
// CannotSend, Alerting (some alert raised), NoAnswer, Running. A target
// with FinalHopOnly shows only the destination's hop.
//
// # Route changes
//
// The rule applies to the address answering at each TTL and, the same
// way, to the path length (the TTL at which the destination answers). Per
// TTL the monitor keeps the addresses seen in the last RouteWindow (20)
// rounds and how many rounds each was seen in since it entered that window.
//
//   - The first address seen at a TTL is its baseline, not a change.
//   - Route change: an address not seen in the window that answers in two
//     consecutive rounds where the TTL answered. The event comes with the
//     second round: "hop 3: 10.0.2.1 → 10.9.2.1". A single-round glitch
//     is not a change.
//   - Multipath: an address that answers again while still in the window,
//     after another address answered in between, means the hop alternates.
//     The members are the window's addresses seen in at least two rounds;
//     when there are two or more and the set has a member not announced
//     before, one event names them: "hop 3: multipath, 2 addresses: a, b".
//     Alternation between known members says nothing more; a member joining
//     says it again. A member not seen for RouteWindow rounds leaves the
//     set silently, so a set that comes back later is announced again.
//   - Lost probes are not observations: they neither change nor confirm.
//   - Path length: the same rule with the destination's TTL for the
//     address ("path length 5 → 6 hops"; alternation: "path length:
//     multipath, 2 lengths: 5, 6 hops"). A path that grows is noticed by a
//     round that meets a router where the destination was; the next round
//     probes further, so the length change is reported one round after the
//     hop that changed.
//
// Rerouting between two stable paths more slowly than RouteWindow rounds
// is reported as a change each way; faster alternation as multipath once.
//
// # Subscribers
//
// Subscribe and SubscribeWith deliver every round and event without ever
// blocking probing: a full channel drops the update for that subscriber
// and counts it under the subscriber's name (Stats().Subscribers). A
// durable subscriber (a log, a notifier, a history store) is then sent a
// Gap naming the rounds and events it missed, before anything newer; it
// catches up from the history (Rounds: the last Settings.History rounds,
// rebuilt) and the per-target event log (Events, bounded by
// Config.MaxEvents), and reports with Report (a RecordGap event) what
// these no longer hold. So a record is complete, or says where it is not.
package monitor
