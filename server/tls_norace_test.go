//go:build !race

package server_test

const tlsRaceEnabled = false
