package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockedWriter stands for an output that does not take what it is given (a full pipe)
// until released.
type blockedWriter struct {
	release chan struct{}
	mu      sync.Mutex
	got     bytes.Buffer
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got.Write(p)
}

func (w *blockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got.String()
}

// The access log never holds up its writer (an event loop) when the output does not
// take lines: they wait up to maxPendingLog bytes, the rest are dropped and counted, and
// all that waited, then the count, reach the output once it takes them again.
func TestAsyncLogNeverBlocksAndBoundsWhatWaits(t *testing.T) {
	out := &blockedWriter{release: make(chan struct{})}
	a := newAsyncLog(out)
	line := []byte(strings.Repeat("x", 99) + "\n")
	lines := 2*maxPendingLog/len(line) + 10 // more than twice what may wait, with the goroutine's batch
	wrote := make(chan error, 1)
	go func() {
		for range lines {
			if n, err := a.Write(line); n != len(line) || err != nil {
				wrote <- fmt.Errorf("Write = %d, %v", n, err)
				return
			}
		}
		wrote <- nil
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second): // only writes that wait for the output meet it
		t.Fatal("Write waited for an output that takes nothing")
	}
	close(out.release)
	// The goroutine writes the batch it took, then the waiting lines with the count; serve's
	// last flush would take whatever is left.
	var got string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		a.flush(nil)
		got = out.String()
		if strings.Contains(got, "access log lines dropped") || time.Now().After(deadline) {
			break
		}
	}
	written := strings.Count(got, string(line))
	if written == 0 || written > 2*maxPendingLog/len(line) {
		t.Fatalf("%d lines written of %d: at most two batches of %d bytes may have waited", written, lines, maxPendingLog)
	}
	if !strings.Contains(got, "count=") {
		t.Fatalf("no count of the dropped lines:\n%s", got[len(got)-min(len(got), 300):])
	}
}
