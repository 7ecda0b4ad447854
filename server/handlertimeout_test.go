package server

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// blockingDecider defers its upgrade to the worker pool, where the decision waits on
// release: an authentication service that never answers.
type blockingDecider struct{ release chan struct{} }

func (blockingDecider) Token() string { return "stuck" }

func (u blockingDecider) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	return c.UpgradeOffLoop(hdr, func(r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
		<-u.release
		return &testProtocol{closed: make(chan struct{})}, hdr, nil
	})
}

// Work handed to the worker pool that outlives HandlerTimeout is answered 503, saying
// why, and the connection closes; the late answer, once it comes, is dropped; other
// connections are served meanwhile.
func TestHandlerTimeoutAnswers503AndDropsTheLateAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, request string
	}{
		{"worker-pool handler", "GET /pool HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"upgrade decided off the loop", "GET /up HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: stuck\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			returned := make(chan struct{}, 1)
			s := startServer(t, Config{HandlerTimeout: 300 * time.Millisecond, HeaderTimeout: time.Hour, IdleTimeout: time.Hour}, func(s *Server) {
				s.Route("/pool", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
					<-release
					_, _ = w.WriteString("late")
					returned <- struct{}{}
				}})
				s.Route("/up", Route{RequireUpgrade: true, Upgraders: []Upgrader{blockingDecider{release}}})
				s.Route("/fast", Route{HTTP: okHandler("fast")})
			})
			c := dial(t, s)
			write(t, c, tc.request)
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second)) // a hang fails, it does not time the server
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer to work that outlived HandlerTimeout: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 503 || !strings.Contains(string(body), "HandlerTimeout") || !resp.Close {
				t.Fatalf("got %d close=%v %q; want 503, Connection: close and a body naming HandlerTimeout", resp.StatusCode, resp.Close, body)
			}

			other := dial(t, s)
			write(t, other, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp, err := http.ReadResponse(bufio.NewReader(other), nil); err != nil || resp.StatusCode != 200 {
				t.Fatalf("another connection was not served while the work was stuck: %v", err)
			}

			close(release) // the late answer
			if tc.name == "worker-pool handler" {
				<-returned
			}
			if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
				t.Fatalf("after the 503 the connection sent %q (err %v); want nothing, then EOF", rest, err)
			}
		})
	}
}
