//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package netpoll

// OnTasksDone has Polling call fn after each batch of queued tasks it runs, before it
// polls again (Switchyard patch; see the gnet fork's tasks_done.go). Call it before
// Polling.
func (p *Poller) OnTasksDone(fn func()) { p.tasksDone = fn }
