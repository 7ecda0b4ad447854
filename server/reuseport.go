package server

import (
	"errors"
	"syscall"

	"github.com/panjf2000/gnet/v2/pkg/socket"
)

// setReusePort sets SO_REUSEPORT on the listening socket before it is bound, so that the
// event loops can bind listeners of their own to the same address (Config.ReusePort).
func setReusePort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) { serr = socket.SetReuseport(int(fd), 1) })
	return errors.Join(err, serr)
}
