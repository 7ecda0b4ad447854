//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// serveUringLean is an experiment (issue 15), not a peer of the suite: gnet-lean's echo
// with io_uring in place of epoll, to measure what a completion ring saves per message
// under paced load. Each loop (one per CPU) is a locked thread with a ring of its own
// (single issuer, deferred task work) that keeps a multishot recv armed on each of its
// connections; a wake-up's echoes are submitted in the io_uring_enter that waits for
// the next arrival, so a message costs one system call where epoll costs three
// (epoll_wait, read, write). The handshake is gobwas on a Go net.Conn, whose socket then
// moves to a loop. Echo only and without limits, like gnet-lean (the output waiting for a
// client that does not read grows), and frames up to 4 KiB.
//
//	switchyard bench -scenarios ws-paced -servers switchyard,gnet-lean,uring-lean
func serveUringLean(addr string) error { return serveUringMode(addr, uringFull) }

// serveUringHybrid and serveUringRecv split uring-lean's saving in two (experiments of
// issue 15): uring-hybrid keeps epoll for readiness and read(2) for data, and puts only
// the sends and the epoll wait (IORING_OP_EPOLL_WAIT, Linux 6.15) in the ring, so a
// message costs two system calls; uring-recv keeps the multishot recv and writes with
// write(2), two system calls too.
func serveUringHybrid(addr string) error { return serveUringMode(addr, uringHybrid) }
func serveUringRecv(addr string) error   { return serveUringMode(addr, uringRecvOnly) }

// uringMode says which of a message's system calls go through the ring.
type uringMode int

const (
	uringFull     uringMode = iota // multishot recv; sends submitted with the wait
	uringHybrid                    // epoll wait and sends in the ring, read(2)
	uringRecvOnly                  // multishot recv in the ring, write(2)
)

func serveUringMode(addr string, mode uringMode) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	u, err := startUring(mode)
	if err != nil {
		return err
	}
	return u.serve(ln)
}

// uringServer is the loops (one per P it found) and what stops them.
type uringServer struct {
	loops   []*uringLoop
	running sync.WaitGroup
	procs   int // GOMAXPROCS before, given back by stop
}

// startUring starts the loops, or says why the kernel refused a ring.
func startUring(mode uringMode) (*uringServer, error) {
	n := runtime.GOMAXPROCS(0)
	u := &uringServer{loops: make([]*uringLoop, n), procs: runtime.GOMAXPROCS(n + 1)} // a P for accepts and handshakes
	for i := range u.loops {
		ready := make(chan error)
		u.running.Add(1)
		go func() {
			defer u.running.Done()
			runtime.LockOSThread() // the ring's single issuer
			l, err := newUringLoop(mode)
			u.loops[i] = l
			ready <- err
			if err == nil {
				l.run()
			}
		}()
		if err := <-ready; err != nil {
			u.stop()
			return nil, err
		}
	}
	return u, nil
}

// serve serves ln until it is closed; then it stops the loops, closing their connections.
func (u *uringServer) serve(ln net.Listener) error {
	defer u.stop()
	var next atomic.Uint32
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		l := u.loops[next.Add(1)%uint32(len(u.loops))]
		go func() {
			if fd, early, err := uringHandshake(c); err == nil {
				l.add(uringNew{fd, early})
			}
		}()
	}
}

// stop stops the loops and waits for them.
func (u *uringServer) stop() {
	for _, l := range u.loops {
		if l != nil {
			l.add(uringNew{fd: -1})
		}
	}
	u.running.Wait()
	runtime.GOMAXPROCS(u.procs)
}

// uringNew is an upgraded socket on its way to a loop (fd -1: stop), with what the client
// sent after its handshake.
type uringNew struct {
	fd    int
	early []byte
}

// uringHandshake upgrades c on /echo and returns a duplicate of its socket (c is closed).
func uringHandshake(c net.Conn) (fd int, early []byte, err error) {
	defer c.Close()
	// gobwas reads the request through a buffer of its own, which would swallow what
	// follows the head: it is given the head alone.
	br := bufio.NewReaderSize(c, 4096)
	var head []byte
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		line, err := br.ReadSlice('\n')
		if err != nil || len(head)+len(line) > maxLeanHead {
			return -1, nil, errors.Join(err, errors.New("uring-lean: no request head"))
		}
		head = append(head, line...)
	}
	if _, err := echoOnly.Upgrade(readWrite{bytes.NewReader(head), c}); err != nil {
		return -1, nil, err
	}
	early, _ = br.Peek(br.Buffered())
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return -1, nil, err
	}
	fd = -1
	var derr error
	if err := raw.Control(func(s uintptr) { fd, derr = unix.Dup(int(s)) }); err != nil {
		return -1, nil, err
	}
	return fd, append([]byte(nil), early...), derr
}

// uringConn is one upgraded socket: a partial frame waiting for its rest, the bytes of
// a send in flight (the kernel's until it completes) and what is to follow them.
type uringConn struct {
	fd      int
	in      []byte
	out     []byte
	pending []byte
	sending bool
	closed  bool
}

const uringMaxFrame = 4 << 10

// uringLoop is one loop: its ring, its connections (by index, which completions carry),
// and the sockets other goroutines hand it through an eventfd.
type uringLoop struct {
	r        *ring
	conns    []*uringConn
	sends    uint32 // submitted since the last wait; each completes at once, with an entry
	efd      int
	ebuf     [8]byte
	mu       sync.Mutex
	incoming []uringNew
	done     bool // the loop has stopped (under mu)
	out      []byte

	mode    uringMode
	ep      int                  // uringHybrid: the epoll instance
	events  [256]unix.EpollEvent // uringHybrid: where the ring's epoll wait puts events
	waiting bool                 // uringHybrid: an epoll wait is in the ring
	rbuf    []byte               // uringHybrid: read(2)'s buffer
}

const (
	tagRecv = iota
	tagSend
	tagEvent
	tagEpoll
)

const opEpollWait = 59 // IORING_OP_EPOLL_WAIT

func uringTag(idx int, tag uint64) uint64 { return uint64(idx)<<8 | tag }

func newUringLoop(mode uringMode) (*uringLoop, error) {
	r, err := newRing()
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		r.close()
		return nil, err
	}
	l := &uringLoop{r: r, efd: efd, mode: mode, ep: -1}
	if mode == uringHybrid {
		if l.ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
			r.close()
			_ = unix.Close(efd)
			return nil, err
		}
		l.rbuf = make([]byte, bufSize)
	}
	return l, nil
}

// add hands a socket (or the stop) to the loop; any goroutine.
func (l *uringLoop) add(n uringNew) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		if n.fd >= 0 {
			_ = unix.Close(n.fd)
		}
		return
	}
	l.incoming = append(l.incoming, n)
	one := [8]byte{1}
	_, _ = unix.Write(l.efd, one[:])
}

func (l *uringLoop) run() {
	defer l.shut()
	l.armEvent()
	stop := false
	for !stop {
		if l.mode == uringHybrid && !l.waiting {
			l.armEpollWait()
		}
		// Each send submitted completes as it is submitted: wait for those and one more,
		// or the wait would end at once on the sends' own completions.
		l.r.enter(1 + l.sends)
		l.sends = 0
		l.r.completions(func(e cqe) {
			idx, tag := int(e.userData>>8), e.userData&0xff
			switch tag {
			case tagEvent:
				stop = l.takeIncoming()
				l.armEvent()
			case tagRecv:
				l.received(idx, e)
			case tagSend:
				l.sent(idx, e)
			case tagEpoll:
				l.waiting = false
				l.ready(int(e.res))
			}
		})
	}
}

// takeIncoming opens the sockets handed over; it reports whether the loop is to stop.
func (l *uringLoop) takeIncoming() (stop bool) {
	l.mu.Lock()
	in := l.incoming
	l.incoming = nil
	l.mu.Unlock()
	for _, n := range in {
		if n.fd < 0 {
			stop = true
			continue
		}
		l.conns = append(l.conns, &uringConn{fd: n.fd})
		idx := len(l.conns) - 1
		if l.mode == uringHybrid {
			_ = unix.SetNonblock(n.fd, true)
			if err := unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, n.fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(idx)}); err != nil {
				l.close(idx)
				continue
			}
		} else {
			l.armRecv(idx)
		}
		if len(n.early) > 0 {
			l.input(idx, n.early)
		}
	}
	return stop
}

func (l *uringLoop) armEvent() {
	s := l.r.next()
	s.opcode, s.fd, s.addr, s.len = opRead, int32(l.efd), uint64(uintptr(unsafe.Pointer(&l.ebuf[0]))), 8
	s.userData = uringTag(0, tagEvent)
}

func (l *uringLoop) armRecv(idx int) {
	s := l.r.next()
	s.opcode, s.fd, s.ioprio, s.flags, s.bufGroup = opRecv, int32(l.conns[idx].fd), recvMultishot, sqeBufferSelect, bufGroup
	s.userData = uringTag(idx, tagRecv)
}

func (l *uringLoop) armEpollWait() {
	s := l.r.next()
	s.opcode, s.fd, s.addr, s.len = opEpollWait, int32(l.ep), uint64(uintptr(unsafe.Pointer(&l.events[0]))), uint32(len(l.events))
	s.userData = uringTag(0, tagEpoll)
	l.waiting = true
}

// ready reads the n connections the ring's epoll wait found readable (level-triggered:
// one read each, what is left is found again).
func (l *uringLoop) ready(n int) {
	for i := range max(n, 0) {
		idx := int(l.events[i].Fd)
		c := l.conns[idx]
		if c.closed {
			continue
		}
		got, err := unix.Read(c.fd, l.rbuf)
		switch {
		case got > 0:
			l.input(idx, l.rbuf[:got])
		case err == unix.EAGAIN || err == unix.EINTR:
		default:
			l.close(idx)
		}
	}
}

func (l *uringLoop) received(idx int, e cqe) {
	c := l.conns[idx]
	if e.flags&cqeFBuffer != 0 {
		bid := uint16(e.flags >> 16)
		if !c.closed {
			l.input(idx, l.r.buffer(bid, int(e.res)))
		}
		l.r.giveBack(bid)
	}
	switch {
	case c.closed:
	case e.res == -int32(syscall.ENOBUFS):
		l.armRecv(idx) // every buffer was taken for a moment
	case e.res <= 0:
		l.close(idx)
	case e.flags&cqeFMore == 0:
		l.armRecv(idx)
	}
}

// input echoes the whole frames of what arrived; a partial one waits in c.in.
func (l *uringLoop) input(idx int, data []byte) {
	c := l.conns[idx]
	if len(c.in) > 0 {
		c.in = append(c.in, data...)
		data = c.in
	}
	out, used, action := leanEcho(data, l.out[:0])
	l.out = out
	if len(out) > 0 {
		l.send(idx, out)
	}
	c.in = append(c.in[:0], data[used:]...)
	if action != 0 || len(c.in) > uringMaxFrame {
		l.close(idx)
	}
}

func (l *uringLoop) send(idx int, p []byte) {
	c := l.conns[idx]
	if l.mode == uringRecvOnly && !c.sending && len(c.pending) == 0 {
		n, err := unix.Write(c.fd, p)
		if n == len(p) {
			return
		}
		if err != nil && err != unix.EAGAIN {
			l.close(idx)
			return
		}
		p = p[max(n, 0):] // the rest goes through the ring, which waits for room
	}
	if c.sending {
		c.pending = append(c.pending, p...)
		return
	}
	c.out = append(c.out[:0], p...)
	c.sending = true
	s := l.r.next()
	s.opcode, s.fd, s.opFlags = opSend, int32(c.fd), unix.MSG_NOSIGNAL
	if l.mode == uringHybrid {
		// It must complete as it is submitted (the wait counts on it): no waiting for
		// room in the ring; a short send is sent again with the next wait (an
		// experiment's echo of small messages to clients that read never meets one).
		s.opFlags |= unix.MSG_DONTWAIT
	}
	s.addr, s.len = uint64(uintptr(unsafe.Pointer(&c.out[0]))), uint32(len(c.out))
	s.userData = uringTag(idx, tagSend)
	l.sends++
}

func (l *uringLoop) sent(idx int, e cqe) {
	c := l.conns[idx]
	c.sending = false
	switch {
	case c.closed:
		_ = unix.Close(c.fd)
	case e.res < 0 && e.res != -int32(syscall.EAGAIN): // EAGAIN: uring-hybrid's socket was full
		l.close(idx)
	case int(e.res) < len(c.out) || len(c.pending) > 0:
		next := append(append([]byte(nil), c.out[max(e.res, 0):]...), c.pending...)
		c.pending = c.pending[:0]
		l.send(idx, next)
	}
}

// close ends a connection. A request holds its socket open, so shutdown ends the armed
// recv, and the descriptor closes once no send is in flight. Indices are not reused (an
// experiment's connections close at the end of its run): a late completion finds the
// connection closed.
func (l *uringLoop) close(idx int) {
	c := l.conns[idx]
	if c.closed {
		return
	}
	c.closed = true
	_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
	if !c.sending {
		_ = unix.Close(c.fd)
	}
}

func (l *uringLoop) shut() {
	l.mu.Lock()
	l.done = true
	for _, n := range l.incoming {
		if n.fd >= 0 {
			_ = unix.Close(n.fd)
		}
	}
	_ = unix.Close(l.efd)
	l.mu.Unlock()
	if l.ep >= 0 {
		defer unix.Close(l.ep) // after the ring, which may still wait on it
	}
	for idx := range l.conns {
		l.close(idx)
	}
	l.r.close() // cancels what is still armed
}
