//go:build !race

package server

const wsRaceEnabled = false
