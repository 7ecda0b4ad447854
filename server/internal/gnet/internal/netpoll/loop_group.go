//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package netpoll

import "sync/atomic"

// LoopGroup is what the loops of one engine share for holding their Ps (Switchyard
// patch; see hold_linux.go): how many of them are parked in Go's netpoller.
type LoopGroup struct {
	parked atomic.Int32
}
