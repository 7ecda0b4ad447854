package hostile

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// Issue 14 item 11: a slow-loris body. Ten requests announce a 4 MiB body
// (Content-Length: 4194304, the default -max-body) and send it one byte every 200 ms.
// With -body-timeout 1s the server allows a body the timeout from its start plus what
// arrives at 16 KiB/s, so each is answered 408 about a second after its head, instead of
// holding its connection and buffer for as long as bytes keep trickling (a timeout
// restarted by every byte would never fire). Bytes keep coming until the answer, for at
// most a minute.
func TestSlowLorisBodyGets408(t *testing.T) {
	srv := startServer(t, "", "-body-timeout", "1s")
	s := besiege(t, srv, nil)
	const lorises = 10
	type answer struct {
		status int
		err    error
		after  time.Duration
		sent   int
	}
	answers := make([]answer, lorises)
	rep := s.during(func() {
		done := make(chan int, lorises)
		conns := make([]net.Conn, lorises)
		start := time.Now()
		for i := range conns {
			conns[i] = dial(t, srv.addr)
			_ = conns[i].SetDeadline(time.Now().Add(2 * safety))
			if _, err := io.WriteString(conns[i], "POST / HTTP/1.1\r\nHost: hostile\r\nContent-Length: 4194304\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			go func(i int) {
				resp, err := http.ReadResponse(bufio.NewReader(conns[i]), &http.Request{Method: "POST"})
				answers[i].after, answers[i].err = time.Since(start), err
				if err == nil {
					answers[i].status = resp.StatusCode
				}
				done <- i
			}(i)
		}
		answered := make([]bool, lorises)
		for left, deadline := lorises, time.Now().Add(safety); left > 0 && time.Now().Before(deadline); {
			select {
			case i := <-done:
				answered[i] = true
				left--
			case <-time.After(200 * time.Millisecond):
				for i, c := range conns {
					if !answered[i] {
						if _, err := c.Write([]byte{'x'}); err == nil {
							answers[i].sent++
						}
					}
				}
			}
		}
		var unanswered []int
		for i, ok := range answered {
			if !ok {
				_ = conns[i].Close() // ends its reader
				unanswered = append(unanswered, i)
			}
		}
		for range unanswered {
			<-done
		}
		for _, i := range unanswered {
			answers[i].err = io.ErrNoProgress
		}
	})
	rep.check(t, "slow-loris bodies", 0)
	for i, a := range answers {
		switch {
		case a.err == io.ErrNoProgress:
			t.Errorf("request %d: no answer after %d body bytes over %v: the body timeout restarts with every byte", i+1, a.sent, safety)
		case a.err != nil:
			t.Errorf("request %d: after %d body bytes, %v: %v", i+1, a.sent, a.after.Round(time.Millisecond), a.err)
		case a.status != http.StatusRequestTimeout:
			t.Errorf("request %d: answered %d after %d body bytes, want 408", i+1, a.status, a.sent)
		case i == 0:
			t.Logf("request 1: 408 after %v and %d body bytes", a.after.Round(time.Millisecond), a.sent)
		}
	}
}
