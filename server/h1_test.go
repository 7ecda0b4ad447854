package server

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestKeepAliveServesSeveralRequestsOnOneConnection(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("/", Route{HTTP: okHandler("hello")}) })
	c := dial(t, s)
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, body := readResponse(t, br, "GET")
		if resp.StatusCode != 200 || body != "hello" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
		if resp.Close {
			t.Fatalf("request %d: server asked to close a keep-alive connection", i)
		}
		if resp.Header.Get("Date") == "" {
			t.Fatalf("missing Date header (RFC 9110 §6.6.1)")
		}
	}
}

// RFC 9112 §9.3.2: responses to pipelined requests come in order, and the server writes
// all the responses of one read in one call, so they arrive together.
func TestPipelinedRequestsAnsweredInOrderInOneWrite(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("", Route{HTTP: echoHandler}) })
	c := dial(t, s)
	write(t, c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"+
		"GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	got := string(buf[:n])
	if strings.Count(got, "HTTP/1.1 200 OK") != 3 {
		t.Fatalf("one read should hold all three responses, got %q", got)
	}
	br := bufio.NewReader(strings.NewReader(got))
	for _, want := range []string{"GET /a ", "POST /b xyz", "GET /c "} {
		_, body := readResponse(t, br, "GET")
		if body != want {
			t.Fatalf("out of order: got %q, want %q", body, want)
		}
	}
}

func TestRequestSplitAtEveryByteIsServed(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("", Route{HTTP: echoHandler}) })
	req := "POST /split?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
	c := dial(t, s)
	for i := 0; i < len(req); i++ {
		write(t, c, req[i:i+1])
	}
	_, body := readResponse(t, bufio.NewReader(c), "POST")
	if body != "POST /split hello" {
		t.Fatalf("got %q", body)
	}
}

func TestBodies(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("", Route{HTTP: echoHandler}) })
	big := strings.Repeat("0123456789", 20000) // spans many reads
	cases := []struct {
		name, req, want string
	}{
		{"content-length body (RFC 9112 §6.2)", "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody", "POST /p body"},
		{"chunked body with extension and trailer (RFC 9112 §7.1)",
			"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n", "POST /c abcde"},
		{"empty chunked body", "POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "POST /e "},
		{"large content-length body across reads", "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + big, "POST /big " + big},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			write(t, c, tc.req)
			resp, body := readResponse(t, bufio.NewReader(c), "POST")
			if resp.StatusCode != 200 || body != tc.want {
				t.Fatalf("got %d %.80q, want %.80q", resp.StatusCode, body, tc.want)
			}
		})
	}
}

// RFC 9110 §10.1.1: a server that will read the body answers Expect: 100-continue with 100
// before the client sends it; an HTTP/1.0 client's expectation is ignored (and §15.2: no
// 1xx goes to an HTTP/1.0 client).
func TestExpectContinue(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("", Route{HTTP: echoHandler}) })
	cases := []struct {
		name, head, want string
	}{
		{"HTTP/1.1 gets 100 first", "PUT /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", continue100},
		{"HTTP/1.0 gets none", "PUT /up HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			br := bufio.NewReader(c)
			write(t, c, tc.head)
			if tc.want != "" {
				if got := readN(t, br, len(tc.want)); got != tc.want {
					t.Fatalf("want 100 Continue first, got %q", got)
				}
			} else {
				// The body follows later, as from a client that does not wait for a 100,
				// so that the server has the head alone when it decides.
				time.Sleep(50 * time.Millisecond)
			}
			write(t, c, "ok")
			resp, body := readResponse(t, br, "PUT")
			if resp.StatusCode != 200 || body != "PUT /up ok" {
				t.Fatalf("got %d %q", resp.StatusCode, body)
			}
		})
	}
}

// RFC 9112 §9.3: HTTP/1.0 closes unless keep-alive is asked for; Connection: close closes,
// after the response, whether the handler ran on the loop or on the worker pool (NetHTTP
// included).
func TestConnectionPersistence(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/", Route{HTTP: okHandler("x")})
		s.Route("/pool", Route{HTTP: okHandler("x"), UseWorkerPool: true})
		s.Route("/nethttp", NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "x") })))
	})
	cases := []struct {
		name, req string
		keep      bool
	}{
		{"HTTP/1.1 persists by default", "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", true},
		{"HTTP/1.1 Connection: close", "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false},
		{"HTTP/1.0 closes by default", "GET %s HTTP/1.0\r\n\r\n", false},
		{"HTTP/1.0 keep-alive", "GET %s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
	}
	for _, path := range []string{"/", "/pool", "/nethttp"} {
		for _, tc := range cases {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				c := dial(t, s)
				br := bufio.NewReader(c)
				req := fmt.Sprintf(tc.req, path)
				write(t, c, req)
				resp, body := readResponse(t, br, "GET")
				if resp.StatusCode != 200 || body != "x" {
					t.Fatalf("got %d %q", resp.StatusCode, body)
				}
				if tc.keep {
					write(t, c, req)
					if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 200 {
						t.Fatalf("second request: %d", resp.StatusCode)
					}
					return
				}
				if !resp.Close {
					t.Fatalf("response should say Connection: close")
				}
				expectClosed(t, br)
			})
		}
	}
}

func TestHeadResponseHasNoBody(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("", Route{HTTP: okHandler("12345")}) })
	c := dial(t, s)
	br := bufio.NewReader(c)
	write(t, c, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, body := readResponse(t, br, "HEAD")
	if resp.ContentLength != 5 || body != "" {
		t.Fatalf("HEAD: Content-Length %d body %q", resp.ContentLength, body)
	}
	if _, body := readResponse(t, br, "GET"); body != "12345" {
		t.Fatalf("GET after HEAD: %q", body)
	}
}

func TestUnknownPathWithoutDefaultRouteIs404(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) { s.Route("/only", Route{HTTP: okHandler("x")}) })
	c := dial(t, s)
	write(t, c, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := readResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 404 {
		t.Fatalf("got %d", resp.StatusCode)
	}
}

func TestResponseHeaderInjectionIsDropped(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("", Route{HTTP: func(w *ResponseWriter, r *Request) {
			w.Header("X-Bad", "a\r\nInjected: yes")
			w.Header("Content-Length", "999")
			w.Header("X-Good", "fine")
		}})
	})
	c := dial(t, s)
	write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, _ := readResponse(t, bufio.NewReader(c), "GET")
	if resp.Header.Get("Injected") != "" || resp.Header.Get("X-Bad") != "" || resp.ContentLength != 0 {
		t.Fatalf("unsafe header got through: %v", resp.Header)
	}
	if resp.Header.Get("X-Good") != "fine" {
		t.Fatalf("valid header lost: %v", resp.Header)
	}
}

// Handlers that block run on the worker pool; responses still come in request order.
func TestWorkerPoolRouteKeepsPipelineOrder(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/slow", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
			if r.Conn() != nil {
				t.Errorf("a pool handler must not get the loop-owned connection")
			}
			blockBriefly()
			echoHandler(w, r)
		}})
		s.Route("/fast", Route{HTTP: echoHandler})
	})
	c := dial(t, s)
	br := bufio.NewReader(c)
	write(t, c, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n1"+
		"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n3")
	for _, want := range []string{"POST /slow 1", "GET /fast ", "POST /slow 3"} {
		if _, body := readResponse(t, br, "GET"); body != want {
			t.Fatalf("got %q want %q", body, want)
		}
	}
}

// Regression: responses large enough to be queued by reference were overwritten by the
// next pipelined request's response before the batch was written.
func TestPipelinedLargeResponsesKeepTheirBodies(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("", Route{HTTP: func(w *ResponseWriter, r *Request) {
			_, _ = w.WriteString(strings.Repeat(string(r.Path[1:]), 5000))
		}})
	})
	c := dial(t, s)
	br := bufio.NewReader(c)
	write(t, c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []string{"a", "b"} {
		if _, body := readResponse(t, br, "GET"); body != strings.Repeat(want, 5000) {
			t.Fatalf("body of /%s corrupted: %.20q...", want, body)
		}
	}
}

// Regression: a connection ending with responses still queued (the client had not read
// them yet) lost their tail, because gnet's close drops what the socket does not take at
// once. The connection now lingers until its output has gone.
func TestCloseWaitsForQueuedResponsesToBeRead(t *testing.T) {
	big := strings.Repeat("z", 12<<20) // more than loopback's socket buffers hold
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("", Route{HTTP: func(w *ResponseWriter, r *Request) { _, _ = w.WriteString(big) }})
	})
	c := dial(t, s)
	var reqs strings.Builder
	reqs.WriteString("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	reqs.WriteString("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	write(t, c, reqs.String())
	time.Sleep(300 * time.Millisecond) // let the server queue what the client has not read
	br := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		resp, body := readResponse(t, br, "GET")
		if body != big {
			t.Fatalf("response %d cut short: %d of %d bytes", i, len(body), len(big))
		}
		if i == 1 && !resp.Close {
			t.Fatalf("the last response should say Connection: close")
		}
	}
	expectClosed(t, br)
}

// RFC 9112 §3.2.2: with an absolute-form target the server ignores Host and takes the
// target's authority; otherwise Request.Host is Host's value.
func TestRequestHost(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/h", Route{HTTP: func(w *ResponseWriter, r *Request) { _, _ = w.Write(r.Host) }})
		s.Route("/nethttp", NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, r.Host+" "+r.URL.Host)
		})))
	})
	cases := []struct {
		name, req, want string
	}{
		{"origin form", "GET /h HTTP/1.1\r\nHost: b.example\r\n\r\n", "b.example"},
		{"absolute form", "GET http://a.example/h HTTP/1.1\r\nHost: b.example\r\n\r\n", "a.example"},
		{"absolute form to NetHTTP", "GET http://a.example/nethttp HTTP/1.1\r\nHost: b.example\r\n\r\n", "a.example a.example"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			write(t, c, tc.req)
			if resp, body := readResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 200 || body != tc.want {
				t.Fatalf("got %d %q, want %q", resp.StatusCode, body, tc.want)
			}
		})
	}
}

// RFC 9110 §15.2: 1xx responses are interim. A handler's 1xx status is not sent as its
// response, which would leave the request without a final one and pair every later
// response on the connection with the wrong request.
func TestHandlerInterimStatusIgnored(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/hints", Route{HTTP: func(w *ResponseWriter, r *Request) { w.WriteHeader(103); _, _ = w.WriteString("first") }})
		s.Route("/second", Route{HTTP: okHandler("second")})
	})
	c := dial(t, s)
	br := bufio.NewReader(c)
	write(t, c, "GET /hints HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []string{"first", "second"} {
		if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != want {
			t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, want)
		}
	}
}
