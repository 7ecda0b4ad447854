// Switchyard patch: see rawio_linux.go; elsewhere the loops use x/sys's calls.

//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"golang.org/x/sys/unix"

	gio "github.com/panjf2000/gnet/v2/pkg/io"
)

type rawIOScratch struct{}

func sysRead(fd int, p []byte) (int, error)  { return unix.Read(fd, p) }
func sysWrite(fd int, p []byte) (int, error) { return unix.Write(fd, p) }
func sysClose(fd int) error                  { return unix.Close(fd) }

func (el *eventloop) sysWritev(fd int, bs [][]byte) (int, error) {
	if len(bs) > iovMax {
		bs = bs[:iovMax]
	}
	return gio.Writev(fd, bs)
}
