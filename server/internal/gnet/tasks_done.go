// Switchyard patch (not in upstream gnet v2.10.0): a handler learns, on the loop, when the
// loop has run a batch of queued tasks (Execute, AsyncWrite, Trigger).
//
// Why: tasks that write to a connection from other goroutines (a publisher's messages,
// queued one task each) can then leave their output for the loop to send once the batch
// is done: consecutive tasks writing to one connection go out in one write instead of one
// system call each.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

// TasksDoneHandler is implemented by an EventHandler that wants to know, on the loop, when
// the loop has run a batch of queued tasks; it is told before the loop polls again. It
// may write to or close connections.
type TasksDoneHandler interface {
	OnTasksDone(el EventLoop)
}

// watchTasks has the poller tell the handler when a batch of tasks is done, if it asks.
func (el *eventloop) watchTasks() {
	if h, ok := el.eventHandler.(TasksDoneHandler); ok {
		el.poller.OnTasksDone(func() { h.OnTasksDone(el) })
	}
}
