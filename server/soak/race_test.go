//go:build race

package soak

// raceEnabled lightens the default soak under the race detector, which slows the server
// and the clients alike by an order of magnitude.
const raceEnabled = true
