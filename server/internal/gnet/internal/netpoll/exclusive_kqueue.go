//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package netpoll

// AddReadExclusive registers a listener shared by several pollers (Switchyard patch; see
// the epoll version). kqueue has no exclusive wakeup: every loop asleep on the listener
// wakes, one accepts and the others find EAGAIN.
func (p *Poller) AddReadExclusive(pa *PollAttachment) error { return p.AddRead(pa, false) }
