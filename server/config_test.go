package server

import (
	"runtime"
	"testing"
)

// Config.IdleSpins: zero takes the default, -1 turns spinning off, others stay; loops
// outnumbering the Go Ps never spin.
func TestIdleSpinsDefaults(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	for _, tc := range []struct {
		name             string
		loops, set, want int
	}{
		{"default", 0, 0, DefaultIdleSpins},
		{"off", 0, -1, 0},
		{"set", 0, 5, 5},
		{"a loop per P", procs, 5, 5},
		{"more loops than Ps", procs + 1, 5, 0},
		{"more loops than Ps, default", procs + 1, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Config{Loops: tc.loops, IdleSpins: tc.set}).withDefaults().IdleSpins; got != tc.want {
				t.Errorf("Loops %d, IdleSpins %d with GOMAXPROCS %d: got %d, want %d", tc.loops, tc.set, procs, got, tc.want)
			}
		})
	}
}
