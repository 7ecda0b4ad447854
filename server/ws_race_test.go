//go:build race

package server

// wsRaceEnabled: under the race detector sync.Pool drops items on purpose, so the
// allocation budgets of pooled paths (fragments, inflate output) cannot hold.
const wsRaceEnabled = true
