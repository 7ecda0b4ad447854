// Switchyard patch (not in upstream gnet v2.10.0).

package gnet

import "github.com/switchyard-dev/switchyard/server/internal/gnet/internal/netpoll"

// NoteHandoff says that a loop has readied a goroutine to take work off it (a worker-pool
// job, a TLS handshake): a loop that sleeps holding its P yields first, so that the
// goroutine is not left behind a sleeping loop when no other P is free
// (internal/netpoll/hold_linux.go). Any goroutine may call it.
func NoteHandoff() { netpoll.NoteHandoff() }
