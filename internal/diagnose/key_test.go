package diagnose

import "testing"

// adopt's unformatted keys are equal exactly when the Keys are.
func TestKeyOfMatchesKey(t *testing.T) {
	var ds []Diagnosis
	for _, w := range []What{Healthy, Loss, Latency, Jitter, RouteChange, PathBroken, DestinationSilent, NotEnoughData} {
		for _, ttl := range []int{0, 1, 2, 10, 12, 21, 255} {
			ds = append(ds, Diagnosis{What: w, Where: Where{TTL: ttl}})
		}
	}
	for _, a := range ds {
		if keyOf(a) == (key{}) {
			t.Errorf("%s: the zero key, which means none", a.Key())
		}
		for _, b := range ds {
			if (keyOf(a) == keyOf(b)) != (a.Key() == b.Key()) {
				t.Errorf("%s and %s: keys equal %v", a.Key(), b.Key(), keyOf(a) == keyOf(b))
			}
		}
	}
}
