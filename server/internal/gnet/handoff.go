// Switchyard patch (not in upstream gnet v2.10.0).

package gnet

import "github.com/switchyard-dev/switchyard/server/internal/gnet/internal/netpoll"

// NoteHandoff says that a loop has readied a goroutine to take work off it (a worker-pool
// job, a TLS handshake): a loop that sleeps holding its P yields first, so that the
// goroutine is not left behind a sleeping loop when no other P is free
// (internal/netpoll/hold_linux.go). Any goroutine may call it. It reaches every engine's
// loops, not only the caller's: the goroutine may run on any P, and a loop of another
// server in the process that sleeps holding one keeps it from that P as much.
func NoteHandoff() { netpoll.NoteHandoff() }
