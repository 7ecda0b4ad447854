//go:build linux

package netpoll

import (
	"slices"
	"testing"

	"github.com/panjf2000/gnet/v2/pkg/queue"
)

// TestOrdinaryTasksKeepTheirOrder: tasks queued while earlier ones wait in the
// low-priority queue run after them, although the loop has meanwhile emptied the urgent
// queue (which it serves first). The loop's turns are played by hand, in Polling's order.
func TestOrdinaryTasksKeepTheirOrder(t *testing.T) {
	p, err := OpenPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var ran []int
	queueTask := func(i int) {
		if err := p.Trigger(queue.LowPriority, func(any) error { ran = append(ran, i); return nil }, nil); err != nil {
			t.Fatal(err)
		}
	}
	turn := func(lowPriority int) { // a turn of Polling's chores
		for task := p.urgentAsyncTaskQueue.Dequeue(); task != nil; task = p.urgentAsyncTaskQueue.Dequeue() {
			_ = task.Exec(task.Param)
		}
		for range lowPriority {
			task := p.asyncTaskQueue.Dequeue()
			if task == nil {
				break
			}
			p.order.took()
			_ = task.Exec(task.Param)
		}
	}
	n := int(p.highPriorityEventsThreshold) + 100 // 100 past the urgent queue's threshold
	for i := range n {
		queueTask(i)
	}
	turn(50) // the urgent queue and half of what overflowed
	for i := n; i < n+10; i++ {
		queueTask(i) // the urgent queue is empty now
	}
	turn(1000)
	want := make([]int, n+10)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(ran, want) {
		for i := range ran {
			if ran[i] != i {
				t.Fatalf("task %d ran in place %d (of %d)", ran[i], i, len(ran))
			}
		}
		t.Fatalf("%d of %d tasks ran", len(ran), len(want))
	}
	if w := p.order.waiting.Load(); w != 0 {
		t.Fatalf("%d tasks still counted as waiting in the low-priority queue", w)
	}
}
