package server

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// The server accepts connections itself and enrolls them into gnet's loops, instead of
// letting gnet listen: gnet's acceptor treats any accept error other than EAGAIN, EINTR and
// ECONNRESET as fatal and shuts the whole engine down (acceptor_unix.go in gnet v2.10.0),
// so running out of file descriptors would stop every connection. Here EMFILE and ENFILE
// only cost the new connection: it is accepted with a reserved descriptor and closed at
// once, and the server keeps serving the others.

// reserveFD holds one descriptor in reserve so that a connection can still be accepted,
// and closed, when the process has none left (the libev/nginx technique).
type reserveFD struct {
	mu sync.Mutex
	f  *os.File
}

func openReserve() *reserveFD {
	f, _ := os.Open(os.DevNull)
	return &reserveFD{f: f}
}

func (r *reserveFD) close() {
	if r.f != nil {
		_ = r.f.Close()
	}
}

// overloaded is sent to connections past MaxConns before they are closed.
const overloaded = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 56\r\n\r\nswitchyard: too many connections (MaxConns); try later.\n"

func (s *Server) acceptLoop(reserve *reserveFD) {
	defer s.accept.Done()
	var backoff time.Duration
	for {
		nc, err := s.ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				s.shed(reserve)
			}
			// Other errors (ECONNABORTED and the like) are the client's: back off briefly
			// so a persistent one cannot spin this goroutine.
			backoff = min(max(backoff*2, time.Millisecond), 100*time.Millisecond)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if limit := s.cfg.MaxConns; limit > 0 && s.open.Load() >= int64(limit) {
			_ = nc.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
			_, _ = nc.Write([]byte(overloaded))
			_ = nc.Close()
			continue
		}
		// Enroll duplicates the descriptor into the loop and closes nc; if it fails (no
		// descriptor left for the duplicate) the connection is refused the same way.
		if _, err := s.cli.Enroll(nc); err != nil {
			_ = nc.Close()
			s.cfg.Logger.Debug("switchyard: connection refused", "err", err)
		}
	}
}

// shed accepts one pending connection with the reserved descriptor and closes it, so the
// client learns at once instead of waiting in the backlog.
func (s *Server) shed(reserve *reserveFD) {
	s.cfg.Logger.Warn("switchyard: out of file descriptors; refusing new connections")
	reserve.mu.Lock()
	defer reserve.mu.Unlock()
	if reserve.f == nil {
		return
	}
	_ = reserve.f.Close()
	reserve.f = nil
	if nc, err := s.ln.Accept(); err == nil {
		_ = nc.Close()
	}
	reserve.f, _ = os.Open(os.DevNull)
}
