//go:build linux

package gnet

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// socketPair returns two connected non-blocking stream sockets.
func socketPair(t *testing.T) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fds[0]); _ = unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// The raw calls must keep x/sys's contract, which the loop's read and write paths
// branch on: n is -1 with an error, EAGAIN compares equal to unix.EAGAIN, 0 bytes
// read is the peer's EOF.
func TestRawIOKeepsTheSyscallContract(t *testing.T) {
	el := &eventloop{}
	many := make([][]byte, iovMax+10)
	for i := range many {
		many[i] = []byte{byte(i)}
	}
	wantMany := make([]byte, iovMax)
	for i := range wantMany {
		wantMany[i] = byte(i)
	}
	tests := []struct {
		name    string
		write   func(fd int) (int, error)
		closeB  bool // close the reading end before writing
		wantN   int
		wantErr error
		want    []byte // what the other end then reads
	}{
		{"write", func(fd int) (int, error) { return sysWrite(fd, []byte("hello")) }, false, 5, nil, []byte("hello")},
		{"empty write", func(fd int) (int, error) { return sysWrite(fd, nil) }, false, 0, nil, nil},
		{"writev skips empty buffers", func(fd int) (int, error) {
			return el.sysWritev(fd, [][]byte{nil, []byte("ab"), {}, []byte("cd")})
		}, false, 4, nil, []byte("abcd")},
		{"writev of nothing", func(fd int) (int, error) { return el.sysWritev(fd, [][]byte{{}, nil}) }, false, 0, nil, nil},
		{"writev stops at iovMax buffers", func(fd int) (int, error) { return el.sysWritev(fd, many) }, false, iovMax, nil, wantMany},
		{"write to a closed peer", func(fd int) (int, error) { return sysWrite(fd, []byte("x")) }, true, -1, unix.EPIPE, nil},
		{"writev to a closed peer", func(fd int) (int, error) { return el.sysWritev(fd, [][]byte{[]byte("x")}) }, true, -1, unix.EPIPE, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := socketPair(t)
			if tt.closeB {
				_ = unix.Close(b)
			}
			n, err := tt.write(a)
			if n != tt.wantN || !errors.Is(err, tt.wantErr) {
				t.Fatalf("got (%d, %v), want (%d, %v)", n, err, tt.wantN, tt.wantErr)
			}
			if tt.closeB {
				return
			}
			buf := make([]byte, 2*iovMax)
			n, err = sysRead(b, buf)
			if len(tt.want) == 0 {
				if n != -1 || err != unix.EAGAIN {
					t.Fatalf("read of an empty socket: (%d, %v), want (-1, EAGAIN)", n, err)
				}
				return
			}
			if err != nil || !bytes.Equal(buf[:n], tt.want) {
				t.Fatalf("read (%q, %v), want %q", buf[:max(n, 0)], err, tt.want)
			}
		})
	}
}

func TestRawReadSeesEOF(t *testing.T) {
	a, b := socketPair(t)
	if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if n, err := sysRead(a, make([]byte, 8)); n != 0 || err != nil {
		t.Fatalf("read after the peer's shutdown: (%d, %v), want (0, nil)", n, err)
	}
}

// The iovecs are the loop's own and are cleared after each call, so writev neither
// allocates nor keeps the caller's buffers reachable.
func TestRawWritevDoesNotAllocateOrRetain(t *testing.T) {
	a, b := socketPair(t)
	el := &eventloop{}
	bs := [][]byte{[]byte("ab"), []byte("cd")}
	sink := make([]byte, 64)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := el.sysWritev(a, bs); err != nil {
			t.Fatal(err)
		}
		if _, err := sysRead(b, sink); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per writev and read, want 0", allocs)
	}
	for i, iov := range el.rawIO.iovecs[:2] {
		if iov.Base != nil {
			t.Fatalf("iovec %d still points at the caller's buffer", i)
		}
	}
}
