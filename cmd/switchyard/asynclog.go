package main

import (
	"io"
	"log/slog"
	"sync"
)

// maxPendingLog bounds the access-log bytes waiting for the output: about 4,000 lines.
const maxPendingLog = 1 << 20

// asyncLog is the access log's output in serve. The event loops format a line per answered
// request (slog's handlers write a record with one Write), and a goroutine of its own
// writes the lines out: a slow output, such as a terminal or a full pipe to a log
// shipper, never stalls a loop. Past maxPendingLog bytes waiting, lines are dropped and
// counted, and the count is written out with the next batch.
type asyncLog struct {
	out  io.Writer
	warn *slog.Logger  // says, in the log's format, how many lines were dropped
	wake chan struct{} // capacity 1: lines are waiting
	mu   sync.Mutex    // guards buf and dropped
	buf  []byte
	// dropped counts the lines left out since the last batch.
	dropped int
	// writing keeps batches in order when serve's last flush meets the goroutine's.
	writing sync.Mutex
}

func newAsyncLog(out io.Writer) *asyncLog {
	a := &asyncLog{out: out, warn: slog.New(slog.NewTextHandler(out, nil)), wake: make(chan struct{}, 1)}
	go a.run()
	return a
}

// Write queues p, or drops it when the output is maxPendingLog behind. It never blocks
// on the output and never fails.
func (a *asyncLog) Write(p []byte) (int, error) {
	a.mu.Lock()
	if len(a.buf)+len(p) > maxPendingLog {
		a.dropped++
	} else {
		a.buf = append(a.buf, p...)
	}
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (a *asyncLog) run() {
	var spare []byte
	for range a.wake {
		spare = a.flush(spare)
	}
}

// flush writes out what waits, and returns the emptied buffer for the next swap. serve
// calls it once the servers have stopped, for the last lines.
func (a *asyncLog) flush(spare []byte) []byte {
	a.writing.Lock()
	defer a.writing.Unlock()
	a.mu.Lock()
	b, dropped := a.buf, a.dropped
	a.buf, a.dropped = spare[:0], 0
	a.mu.Unlock()
	if len(b) > 0 {
		_, _ = a.out.Write(b)
	}
	if dropped > 0 {
		a.warn.Warn("access log lines dropped: the output fell behind", "count", dropped, "pending_bytes", maxPendingLog)
	}
	return b
}
