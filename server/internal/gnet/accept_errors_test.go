//go:build linux

package gnet

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The switchyard patch must keep the engine alive through every accept error that is
// the process's or the network's, and still stop on a broken listener.
func TestClassifyAcceptError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want acceptVerdict
	}{
		{"queue drained", unix.EAGAIN, acceptWait},
		{"out of descriptors: refuse, keep serving", unix.EMFILE, acceptWait},
		{"system out of descriptors", unix.ENFILE, acceptWait},
		{"out of socket buffers", unix.ENOBUFS, acceptWait},
		{"out of memory", unix.ENOMEM, acceptWait},
		{"client reset before accept", unix.ECONNRESET, acceptRetry},
		{"client aborted", unix.ECONNABORTED, acceptRetry},
		{"interrupted", unix.EINTR, acceptRetry},
		{"accept(2): pending network error EPROTO", unix.EPROTO, acceptRetry},
		{"accept(2): pending network error ENETUNREACH", unix.ENETUNREACH, acceptRetry},
		{"accept(2): pending network error ENONET", unix.ENONET, acceptRetry},
		{"firewall refused", unix.EPERM, acceptRetry},
		{"listener closed", unix.EBADF, acceptFatal},
		{"not listening", unix.EINVAL, acceptFatal},
		{"not a socket", unix.ENOTSOCK, acceptFatal},
	} {
		if got := classifyAcceptError(tc.err); got != tc.want {
			t.Errorf("%s (%v): got %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}
