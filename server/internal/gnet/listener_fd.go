// Switchyard patch (not in upstream gnet v2.10.0): serve a listener the caller bound.
//
// Upstream gnet binds its own listeners from an address string, so a caller cannot
// learn the port of ":0" before Run returns (it blocks until shutdown) and cannot
// set options Go's net package knows how to set. RunListener takes a bound
// *net.TCPListener or *net.UnixListener instead; everything else is Run.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import (
	"errors"
	"net"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/panjf2000/gnet/v2/pkg/logging"
	"github.com/panjf2000/gnet/v2/pkg/socket"
)

// RunListener is like Run, serving ln, a *net.TCPListener or a *net.UnixListener. It
// serves a duplicate of ln's descriptor, which it closes; the caller closes ln (and so
// removes a Unix socket's file). With WithReusePort, every further event loop binds its
// own listener to ln's address, so ln must have been bound with SO_REUSEPORT, and must
// not be a Unix listener: upstream rebinds a Unix address by removing the file first,
// which would take ln's socket away.
func RunListener(eventHandler EventHandler, ln net.Listener, opts ...Option) error {
	_, options, err := createListeners(nil, opts...)
	if err != nil {
		return err
	}
	network := "tcp"
	switch ln.(type) {
	case *net.TCPListener:
	case *net.UnixListener:
		network = "unix"
		if options.ReusePort {
			return errors.New("gnet: WithReusePort does not apply to a Unix listener")
		}
	default:
		return errors.New("gnet: RunListener serves a *net.TCPListener or a *net.UnixListener")
	}
	rc, err := ln.(syscall.Conn).SyscallConn()
	if err != nil {
		return err
	}
	fd := -1
	if cerr := rc.Control(func(s uintptr) {
		fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); cerr != nil {
		return cerr
	}
	if err != nil {
		return err
	}
	if err = unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return err
	}
	// Accepted sockets inherit these from the listener on Linux, which saves a
	// setsockopt per connection. A Unix socket has none of them (setsockopt fails).
	if network == "tcp" && options.TCPNoDelay == TCPNoDelay {
		err = socket.SetNoDelay(fd, 1)
	}
	if err == nil && network == "tcp" && options.TCPKeepAlive > 0 &&
		(runtime.GOOS == "linux" || runtime.GOOS == "freebsd" || runtime.GOOS == "dragonfly") {
		err = setKeepAlive(fd, true, options.TCPKeepAlive, options.TCPKeepInterval, options.TCPKeepCount)
	}
	if err != nil {
		_ = unix.Close(fd)
		return err
	}
	l := &listener{fd: fd, addr: ln.Addr(), address: ln.Addr().String(), network: network, keepFile: true}
	l.openOnce.Do(func() {}) // already open: Run must not bind it again
	defer func() {
		l.close() // the engine closes it on shutdown; this covers the early returns
		logging.Cleanup()
	}()
	return run(eventHandler, []*listener{l}, options, []string{network + "://" + l.address})
}
