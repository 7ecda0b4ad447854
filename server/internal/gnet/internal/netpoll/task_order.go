//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package netpoll

import (
	"sync/atomic"

	"github.com/panjf2000/gnet/v2/pkg/queue"
)

// taskOrder keeps ordinary (low-priority) tasks in the order they were queued
// (Switchyard patch). Upstream puts an ordinary task in the low-priority queue only while
// the urgent queue holds the threshold or more, and the loop serves the urgent queue
// first: once the loop had taken the urgent queue below the threshold, later tasks went
// there again and ran before earlier ones still in the low-priority queue (a WebSocket's
// WriteAsync messages arrived out of order past 1,024 waiting). An ordinary task now
// also goes to the low-priority queue while any task is in it. waiting counts them,
// raised before the enqueue and lowered after the dequeue, so that it is never below the
// number in the queue.
type taskOrder struct{ waiting atomic.Int32 }

// toLowPriority says whether a task of priority goes to the low-priority queue.
func (o *taskOrder) toLowPriority(priority queue.EventPriority, urgent queue.AsyncTaskQueue, threshold int32) bool {
	if priority > queue.HighPriority && (o.waiting.Load() > 0 || urgent.Length() >= threshold) {
		o.waiting.Add(1)
		return true
	}
	return false
}

// took notes that the loop took a task from the low-priority queue.
func (o *taskOrder) took() { o.waiting.Add(-1) }
