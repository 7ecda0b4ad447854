//go:build race

package websocket

// raceEnabled: under the race detector sync.Pool drops items on purpose, so the
// allocation budgets of pooled paths (fragments, inflate output) cannot hold.
const raceEnabled = true
