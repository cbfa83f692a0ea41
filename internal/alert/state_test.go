package alert

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// step is one evaluation fed to State.Step, after the previous one.
type step struct {
	after time.Duration
	rules Rules
	res   Result
	// silent is true when the destination has never answered.
	silent bool
	want   []string // the changes, written as by changeString
}

// full and partial build window results: loss in percent, latency in ms.
func full(loss, latency float64) Result {
	return Result{Sent: 10, Recv: 10 - int(loss/10), LossPct: loss, Latency: ms(latency), Full: true}
}
func partial(loss, latency float64) Result {
	r := full(loss, latency)
	r.Sent, r.Full = 3, false
	return r
}

// refusals builds a window of recv answers, refused of them refusals.
func refusals(recv, refused int, isFull bool) Result {
	return Result{Sent: 10, Recv: recv, Refused: refused, LossPct: float64(10-recv) * 10, Latency: ms(2), Full: isFull}
}

func changeString(c Change) string {
	verb := "clear"
	if c.Raised {
		verb = "raise"
	}
	return fmt.Sprintf("%s %s %g/%g", verb, c.Condition, c.Value, c.Threshold)
}

func TestStateStep(t *testing.T) {
	both := Rules{LossPct: 20, Latency: 100 * time.Millisecond, Window: 10}
	lossOnly := Rules{LossPct: 20, Window: 10}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "raise_stay_clear", steps: []step{
			{rules: both, res: full(0, 10)},
			{rules: both, res: full(20, 10), want: []string{"raise loss 20/20"}},
			{rules: both, res: full(30, 10)}, // still raised: said once
			{rules: both, res: full(50, 10)},
			{rules: both, res: full(10, 10), want: []string{"clear loss 10/20"}},
			{rules: both, res: full(10, 10)},
		}},
		{name: "latency_raise_and_clear", steps: []step{
			{rules: both, res: full(0, 99.9)},
			{rules: both, res: full(0, 100), want: []string{"raise latency 100/100"}},
			{rules: both, res: full(0, 250)},
			{rules: both, res: full(0, 99), want: []string{"clear latency 99/100"}},
		}},
		{name: "both_at_once", steps: []step{
			{rules: both, res: full(40, 300), want: []string{"raise loss 40/20", "raise latency 300/100"}},
		}},
		{name: "flapping_at_the_threshold", steps: []step{
			// Every crossing is a change; the window (not extra
			// hysteresis) is what smooths a noisy path.
			{rules: lossOnly, res: full(20, 10), want: []string{"raise loss 20/20"}},
			{rules: lossOnly, res: full(10, 10), want: []string{"clear loss 10/20"}},
			{rules: lossOnly, res: full(20, 10), want: []string{"raise loss 20/20"}},
			{rules: lossOnly, res: full(20, 10)},
			{rules: lossOnly, res: full(10, 10), want: []string{"clear loss 10/20"}},
		}},
		{name: "disabled_rule_never_raises", steps: []step{
			{rules: Rules{Window: 10}, res: full(100, 5000)},
			{rules: Rules{Window: 10}, res: full(90, 5000)},
		}},
		{name: "disabling_clears", steps: []step{
			{rules: both, res: full(50, 500), want: []string{"raise loss 50/20", "raise latency 500/100"}},
			{rules: Rules{LossPct: 20, Window: 10}, res: full(50, 500), want: []string{"clear latency 500/0"}},
			{rules: Rules{Window: 10}, res: full(50, 500), want: []string{"clear loss 50/0"}},
			{rules: Rules{Window: 10}, res: full(50, 500)},
		}},
		{name: "never_answered_never_raises", steps: []step{
			{rules: both, res: full(100, 0), silent: true},
			{rules: both, res: full(100, 0), silent: true},
			// It answers at last, through heavy loss: now it is degraded.
			{rules: both, res: full(90, 20), want: []string{"raise loss 90/20"}},
		}},
		{name: "window_not_yet_full", steps: []step{
			{rules: both, res: partial(100, 500)},
			{rules: both, res: partial(60, 500)},
			{rules: both, res: full(60, 500), want: []string{"raise loss 60/20", "raise latency 500/100"}},
			// A window made longer is partial again: nothing clears yet.
			{rules: both, res: partial(0, 10)},
			{rules: both, res: full(0, 10), want: []string{"clear loss 0/20", "clear latency 10/100"}},
		}},
		{name: "closed_raises_on_a_full_window_of_refusals", steps: []step{
			{rules: lossOnly, res: refusals(10, 0, false)},
			{rules: lossOnly, res: refusals(10, 3, false)},
			{rules: lossOnly, res: refusals(10, 9, true)},
			// Every answer refused, one probe lost: the port is closed.
			{rules: lossOnly, res: refusals(9, 9, true), want: []string{"raise closed 100/100"}},
			{rules: lossOnly, res: refusals(10, 10, true)},
			// Nothing answered: unknown, the condition holds; loss speaks.
			{rules: lossOnly, res: Result{Sent: 10, LossPct: 100, Full: true}, want: []string{"raise loss 100/20"}},
			// The first accepted connection clears it.
			{rules: lossOnly, res: refusals(10, 9, true), want: []string{"clear loss 0/20", "clear closed 90/100"}},
		}},
		{name: "closed_needs_no_rule_and_resets", steps: []step{
			{rules: Rules{Window: 10}, res: refusals(10, 10, true), want: []string{"raise closed 100/100"}},
			{rules: Rules{Window: 10}, res: refusals(10, 10, true)},
		}},
		{name: "latency_unknown_without_replies", steps: []step{
			{rules: both, res: full(0, 200), want: []string{"raise latency 200/100"}},
			// Every probe lost: loss raises, latency (no replies) holds.
			{rules: both, res: Result{Sent: 10, LossPct: 100, Full: true}, want: []string{"raise loss 100/20"}},
			{rules: both, res: full(0, 20), want: []string{"clear loss 0/20", "clear latency 20/100"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s State
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			for i, st := range tt.steps {
				now = now.Add(st.after + time.Second)
				var got []string
				for _, c := range s.Step(now, st.rules, st.res, !st.silent) {
					got = append(got, changeString(c))
				}
				if !reflect.DeepEqual(got, st.want) && (len(got) != 0 || len(st.want) != 0) {
					t.Errorf("step %d: Step(%+v) = %q; want %q", i, st.res, got, st.want)
				}
			}
		})
	}
}

func TestStateActiveSetReset(t *testing.T) {
	var s State
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Step(t0, Rules{Latency: time.Millisecond, Window: 1}, Result{Sent: 1, Recv: 1, Latency: time.Second, Full: true}, true)
	if got := s.Active(); !reflect.DeepEqual(got, []Condition{Latency}) {
		t.Fatalf("Active() = %v; want [latency]", got)
	}
	s.Set(Loss, true, t0)
	if got := s.Active(); !reflect.DeepEqual(got, []Condition{Loss, Latency}) {
		t.Fatalf("after Set, Active() = %v; want [loss latency]", got)
	}
	cs := s.Reset()
	if len(cs) != 2 || cs[0].Raised || cs[1].Raised || !cs[0].Since.Equal(t0) {
		t.Errorf("Reset() = %+v; want two clears", cs)
	}
	if got := s.Active(); got != nil {
		t.Errorf("after Reset, Active() = %v; want none", got)
	}
}
