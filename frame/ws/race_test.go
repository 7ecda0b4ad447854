//go:build race

package ws

// raceEnabled: under the race detector sync.Pool drops items on purpose, so
// allocation budgets of pooled paths cannot hold.
const raceEnabled = true
