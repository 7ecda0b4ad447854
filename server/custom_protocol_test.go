package server

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lineProtocol serves its input a line at a time, logging "<name><line>" to a log that
// only its loop touches, and answers each line with "ok <line>\n". With yield it ends
// its turn after each line (Conn.Yield); with submit it hands the line to the worker
// pool (Conn.Submit) and answers from there, or answers "full <line>\n" when the pool
// says so.
type lineProtocol struct {
	name   string
	yield  bool
	submit func(c *Conn, line string) func() // the job for a line, run on a worker
	log    *[]string
}

type lineUpgrader struct{ p func() *lineProtocol }

func (u lineUpgrader) Token() string { return "lines" }
func (u lineUpgrader) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	p := u.p()
	p.name = string(r.Get("X-Name"))
	return p, hdr, nil
}

func (p *lineProtocol) Start(*Conn, *Request) {}
func (p *lineProtocol) Serve(c *Conn, in []byte) (int, error) {
	i := strings.IndexByte(string(in), '\n')
	if i < 0 {
		return 0, nil
	}
	line := string(in[:i])
	*p.log = append(*p.log, p.name+line)
	switch {
	case p.submit != nil:
		if err := c.Submit(p.submit(c, line)); err == ErrPoolFull {
			c.WriteString("full " + line + "\n")
		} else if err != nil {
			return 0, err
		}
	default:
		c.WriteString("ok " + line + "\n")
	}
	if p.yield {
		c.Yield()
	}
	return i + 1, nil
}
func (p *lineProtocol) Timeout(c *Conn)     { c.Close() }
func (p *lineProtocol) Closed(*Conn, error) {}

// switchToLines upgrades a new connection to the line protocol as name.
func switchToLines(t *testing.T, s *Server, name string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c := dial(t, s)
	br := bufio.NewReader(c)
	write(t, c, "GET /lines HTTP/1.1\r\nHost: x\r\nX-Name: "+name+"\r\nUpgrade: lines\r\nConnection: upgrade\r\n\r\n")
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 101 {
		t.Fatalf("upgrade: status %d", resp.StatusCode)
	}
	return c, br
}

func readLines(t *testing.T, br *bufio.Reader, n int) []string {
	t.Helper()
	var got []string
	for range n {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, strings.TrimSuffix(l, "\n"))
	}
	return got
}

// A protocol that yields after each unit gets the rest of its input served later, after
// what else its loop had to do: here another connection's input that was ready at the
// same time is served before the yielding connection's second line, where without the
// yield all of A's lines go first.
func TestYieldServesTheRestAfterTheLoopsOtherWork(t *testing.T) {
	var log []string // touched on the one loop only, read once both clients have their answers
	s := startServer(t, Config{Loops: 1}, func(s *Server) {
		s.Route("/lines", Route{RequireUpgrade: true, Upgraders: []Upgrader{
			lineUpgrader{func() *lineProtocol { return &lineProtocol{yield: true, log: &log} }}}})
	})
	a, abr := switchToLines(t, s, "A")
	b, bbr := switchToLines(t, s, "B")

	// Both inputs arrive while the loop is held, so that one turn finds both ready, A's
	// first.
	held, release := make(chan struct{}), make(chan struct{})
	if err := s.loopList()[0].Run(runFunc(func() { close(held); <-release })); err != nil {
		t.Fatal(err)
	}
	<-held
	write(t, a, "1\n2\n3\n")
	write(t, b, "1\n")
	close(release)

	if got := readLines(t, abr, 3); strings.Join(got, ",") != "ok 1,ok 2,ok 3" {
		t.Fatalf("A got %q", got)
	}
	if got := readLines(t, bbr, 1); got[0] != "ok 1" {
		t.Fatalf("B got %q", got)
	}
	var order []string
	done := make(chan struct{})
	if err := s.loopList()[0].Run(runFunc(func() { order = append(order, log...); close(done) })); err != nil {
		t.Fatal(err)
	}
	<-done
	if strings.Join(order, " ") != "A1 B1 A2 A3" {
		t.Fatalf("served in the order %v, want A1 B1 A2 A3 (A yields after each line)", order)
	}
}

// Conn.Submit runs a job on the worker pool; while every worker is busy it says
// ErrPoolFull at once, and the job gets back to its connection through Execute.
func TestSubmitRunsJobsOnTheWorkerPool(t *testing.T) {
	var log []string
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	job := func(c *Conn, line string) func() {
		return func() {
			if line == "block" {
				started <- struct{}{}
				<-release
			}
			_ = c.Execute(func(c *Conn) { c.WriteString("done " + line + "\n") })
		}
	}
	s := startServer(t, Config{Loops: 1, WorkerPoolSize: 1}, func(s *Server) {
		s.Route("/lines", Route{RequireUpgrade: true, Upgraders: []Upgrader{
			lineUpgrader{func() *lineProtocol {
				return &lineProtocol{log: &log, submit: job}
			}}}})
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	c, br := switchToLines(t, s, "A")
	write(t, c, "block\n")
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the job never started")
	}
	write(t, c, "second\n")
	if got := readLines(t, br, 1); got[0] != "full second" {
		t.Fatalf("with the only worker busy: %q, want full second", got)
	}
	close(release)
	if got := readLines(t, br, 1); got[0] != "done block" {
		t.Fatalf("after the job: %q, want done block", got)
	}
	write(t, c, "third\n")
	if got := readLines(t, br, 1); got[0] != "done third" {
		t.Fatalf("with the worker free again: %q, want done third", got)
	}
}

// runFunc is a loop task made of a function.
type runFunc func()

func (f runFunc) Run(context.Context) error { f(); return nil }

// requestLines is a protocol carrying one HTTP request per line ("GET /path"): it
// dispatches each through the server's routes with Conn.Handle and answers with the
// status and the body on one line.
type requestLines struct{}

func (requestLines) Start(*Conn, *Request) {}
func (requestLines) Serve(c *Conn, in []byte) (int, error) {
	i := strings.IndexByte(string(in), '\n')
	if i < 0 {
		return 0, nil
	}
	method, path, _ := strings.Cut(string(in[:i]), " ")
	var w ResponseWriter
	c.Handle(&w, &Request{Method: []byte(method), Path: []byte(path), Target: []byte(path), ProtoMajor: 2})
	c.WriteString(strconv.Itoa(w.Status()) + " " + strings.TrimSuffix(string(w.Body()), "\n") + "\n")
	return i + 1, nil
}
func (requestLines) Timeout(c *Conn)     { c.Close() }
func (requestLines) Closed(*Conn, error) {}

type requestLinesUpgrader struct{}

func (requestLinesUpgrader) Token() string { return "requests" }
func (requestLinesUpgrader) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	return requestLines{}, hdr, nil
}

// Conn.Handle serves a request a protocol of one's own carries with the route's handler,
// and answers what has no route, or no handler for the method, as HTTP/1.1 and HTTP/2 do.
func TestHandleDispatchesThroughTheRoutes(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/requests", Route{RequireUpgrade: true, Upgraders: []Upgrader{requestLinesUpgrader{}}})
		s.Route("GET /hello", Route{HTTP: okHandler("hello")})
		s.Route("/ws-only", Route{RequireUpgrade: true, Upgraders: []Upgrader{testUpgrader{"foo"}}})
	})
	c := dial(t, s)
	br := bufio.NewReader(c)
	write(t, c, "GET /requests HTTP/1.1\r\nHost: x\r\nUpgrade: requests\r\nConnection: upgrade\r\n\r\n")
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 101 {
		t.Fatalf("upgrade: status %d", resp.StatusCode)
	}
	cases := []struct{ line, wantPrefix string }{
		{"GET /hello", "200 hello"},
		{"POST /hello", "405 this path is not served with the method POST"},
		{"GET /nowhere", "404 no route for this path"},
		{"GET /ws-only", "404 this path serves only protocol upgrades"},
	}
	for _, tc := range cases {
		write(t, c, tc.line+"\n")
		if got := readLines(t, br, 1)[0]; !strings.HasPrefix(got, tc.wantPrefix) {
			t.Errorf("%s: %q, want %q…", tc.line, got, tc.wantPrefix)
		}
	}
}
