package server

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
)

// Unix-domain sockets: Config.Addr "unix:/run/switchyard.sock" listens on a socket file
// instead of a TCP port, spelt as nginx's `listen unix:/path` and `proxy_pass
// http://unix:/path:` are, for a server that only a proxy on the same host reaches.
// Everything above the socket is the same: TLS, PROXY headers, every protocol. What is
// TCP's does not apply: ReusePort (refused), TCP_NODELAY and keep-alive (not set), and
// MaxConnsPerIP, as a Unix peer has no IP (only the addresses PROXY headers name count).

// unixAddrPrefix marks a Unix-domain socket's path in Config.Addr.
const unixAddrPrefix = "unix:"

// unixSocketPath returns the socket file's path when addr names a Unix-domain socket.
func unixSocketPath(addr string) (path string, ok bool) {
	return strings.CutPrefix(addr, unixAddrPrefix)
}

var errUnixReusePort = errors.New("switchyard: Config.ReusePort does not apply to a Unix-domain socket (Addr \"unix:...\"): one process listens on a socket file")

// listenUnix binds the socket file at path, with Config.UnixSocketMode if set. The
// *net.UnixListener removes the file when it is closed (Shutdown, Close).
func (s *Server) listenUnix(path string) (net.Listener, error) {
	switch {
	case s.cfg.ReusePort:
		return nil, errUnixReusePort
	case path == "":
		return nil, errors.New("switchyard: Config.Addr \"unix:\" names no socket file")
	}
	removeStaleSocket(path)
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "unix", path)
	if err != nil {
		return nil, err
	}
	if m := s.cfg.UnixSocketMode; m != 0 {
		if err := os.Chmod(path, m); err != nil {
			_ = ln.Close()
			return nil, err
		}
	}
	return ln, nil
}

// removeStaleSocket removes the socket file at path when nothing accepts on it: a server
// that was killed left it behind, and binding would fail on it. A file that is not a
// socket, or one that a server still answers on, stays, and the bind then fails
// ("address already in use"): a second server must not take the first one's clients.
func removeStaleSocket(path string) {
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSocket == 0 {
		return
	}
	c, err := net.Dial("unix", path)
	if err == nil {
		_ = c.Close()
		return
	}
	if errors.Is(err, syscall.ECONNREFUSED) { // no listener: only that error says so
		_ = os.Remove(path)
	}
}
