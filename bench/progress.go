package bench

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// ProgressWriter returns os.Stderr when it is a terminal and CI is not set, else nil:
// the live line is for people watching, not for logs.
func ProgressWriter() io.Writer {
	if os.Getenv("CI") == "true" || os.Getenv("CI") == "1" {
		return nil
	}
	fi, err := os.Stderr.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return os.Stderr
}

// progress redraws one status line with the current run's rate, four times a second.
type progress struct {
	w    io.Writer
	mu   sync.Mutex
	quit chan struct{}
	wg   sync.WaitGroup
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

func (p *progress) start(label, unit string, live *Live) {
	if p.w == nil {
		return
	}
	p.quit = make(chan struct{})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		t0, last, lastT := time.Now(), uint64(0), time.Now()
		for {
			select {
			case <-p.quit:
				return
			case now := <-t.C:
				n := live.load()
				rate := float64(n-last) / now.Sub(lastT).Seconds()
				last, lastT = n, now
				p.mu.Lock()
				fmt.Fprintf(p.w, "\r\033[K%s · %4.1fs · %.0f %s/s", label, now.Sub(t0).Seconds(), rate, unit)
				p.mu.Unlock()
			}
		}
	}()
}

func (p *progress) stop() {
	if p.w == nil || p.quit == nil {
		return
	}
	close(p.quit)
	p.wg.Wait()
	p.quit = nil
}

func (p *progress) done() {
	if p.w != nil {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
