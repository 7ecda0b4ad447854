package server

import "testing"

// Config.IdleSpins: zero takes the default, -1 turns spinning off, others stay.
func TestIdleSpinsDefaults(t *testing.T) {
	for _, tc := range []struct{ set, want int }{
		{0, DefaultIdleSpins},
		{-1, 0},
		{5, 5},
	} {
		if got := (Config{IdleSpins: tc.set}).withDefaults().IdleSpins; got != tc.want {
			t.Errorf("IdleSpins %d: got %d, want %d", tc.set, got, tc.want)
		}
	}
}
