//go:build linux

package main

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An io_uring instance over raw system calls (golang.org/x/sys has none, and the
// experiment needs only setup, enter, and a provided-buffer ring). Layouts are the
// kernel's (include/uapi/linux/io_uring.h).

const (
	sysIOUringSetup    = 425
	sysIOUringEnter    = 426
	sysIOUringRegister = 427

	setupCQSize       = 1 << 4
	setupSingleIssuer = 1 << 12 // only the thread that made the ring submits to it
	setupDeferTaskrun = 1 << 13 // completions are made when that thread waits, not by interrupts
	featSingleMmap    = 1
	offSQEs           = 0x10000000
	enterGetEvents    = 1
	registerPbufRing  = 22

	opRead = 22
	opSend = 26
	opRecv = 27

	sqeBufferSelect = 1 << 5 // the kernel picks a provided buffer
	recvMultishot   = 1 << 1 // in ioprio: the recv stays armed
	cqeFBuffer      = 1 << 0 // flags >> 16 is the provided buffer's id
	cqeFMore        = 1 << 1 // a multishot request stays armed
)

type sqOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type ringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqOffsets
	cqOff                                                                  cqOffsets
}

// sqe is a submission queue entry.
type sqe struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	opFlags     uint32
	userData    uint64
	bufGroup    uint16
	personality uint16
	spliceFdIn  int32
	addr3       uint64
	pad         uint64
}

// cqe is a completion queue entry.
type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// providedBuf is struct io_uring_buf; the ring's tail is entry 0's resv.
type providedBuf struct {
	addr uint64
	len  uint32
	bid  uint16
	resv uint16
}

// ring is one io_uring with its submission and completion queues mapped, and a group of
// provided buffers (bufCount of bufSize) for multishot receives. Single issuer: it must be
// made, and used, by one locked thread.
type ring struct {
	fd                     int
	sqHead, sqTail, sqMask *uint32
	sqArray                []uint32
	sqes                   []sqe
	sqLocalTail            uint32
	toSubmit               uint32
	cqHead, cqTail, cqMask *uint32
	cqes                   []cqe
	maps                   [][]byte
	bufMem                 []byte
	bufs                   []providedBuf
	bufTail                uint16
}

const (
	ringEntries = 4096
	bufCount    = 4096 // a power of two
	bufSize     = 2048
	bufGroup    = 1
)

func newRing() (*ring, error) {
	p := ringParams{flags: setupSingleIssuer | setupDeferTaskrun | setupCQSize, cqEntries: 2 * ringEntries}
	fd, _, errno := syscall.Syscall(sysIOUringSetup, ringEntries, uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	r := &ring{fd: int(fd)}
	if p.features&featSingleMmap == 0 {
		r.close()
		return nil, errors.New("io_uring without IORING_FEAT_SINGLE_MMAP (kernel older than 5.4)")
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(cqe{})))
	queues, err := r.mmap(r.fd, 0, int(size))
	if err != nil {
		return nil, err
	}
	entries, err := r.mmap(r.fd, offSQEs, int(p.sqEntries)*int(unsafe.Sizeof(sqe{})))
	if err != nil {
		return nil, err
	}
	base := unsafe.Pointer(&queues[0])
	at := func(off uint32) *uint32 { return (*uint32)(unsafe.Add(base, off)) }
	r.sqHead, r.sqTail, r.sqMask = at(p.sqOff.head), at(p.sqOff.tail), at(p.sqOff.ringMask)
	r.sqArray = unsafe.Slice(at(p.sqOff.array), p.sqEntries)
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&entries[0])), p.sqEntries)
	r.sqLocalTail = atomic.LoadUint32(r.sqTail)
	r.cqHead, r.cqTail, r.cqMask = at(p.cqOff.head), at(p.cqOff.tail), at(p.cqOff.ringMask)
	r.cqes = unsafe.Slice((*cqe)(unsafe.Add(base, p.cqOff.cqes)), p.cqEntries)
	if err := r.provideBuffers(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *ring) mmap(fd int, off int64, size int) ([]byte, error) {
	flags := unix.MAP_SHARED | unix.MAP_POPULATE
	if fd < 0 {
		flags = unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_POPULATE
	}
	b, err := unix.Mmap(fd, off, size, unix.PROT_READ|unix.PROT_WRITE, flags)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("io_uring mmap: %w", err)
	}
	r.maps = append(r.maps, b)
	return b, nil
}

// provideBuffers registers the buffer ring (page-aligned, hence mmap) and fills it.
func (r *ring) provideBuffers() error {
	mem, err := r.mmap(-1, 0, bufCount*int(unsafe.Sizeof(providedBuf{})))
	if err != nil {
		return err
	}
	r.bufs = unsafe.Slice((*providedBuf)(unsafe.Pointer(&mem[0])), bufCount)
	r.bufMem = make([]byte, bufCount*bufSize)
	reg := struct {
		ringAddr    uint64
		ringEntries uint32
		bgid        uint16
		flags       uint16
		resv        [3]uint64
	}{ringAddr: uint64(uintptr(unsafe.Pointer(&mem[0]))), ringEntries: bufCount, bgid: bufGroup}
	if _, _, errno := syscall.Syscall6(sysIOUringRegister, uintptr(r.fd), registerPbufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0); errno != 0 {
		r.close()
		return fmt.Errorf("IORING_REGISTER_PBUF_RING: %w", errno)
	}
	for i := range bufCount {
		r.giveBack(uint16(i))
	}
	return nil
}

// buffer is provided buffer bid holding n received bytes.
func (r *ring) buffer(bid uint16, n int) []byte {
	return r.bufMem[int(bid)*bufSize : int(bid)*bufSize+n]
}

// giveBack returns provided buffer bid to the kernel.
func (r *ring) giveBack(bid uint16) {
	b := &r.bufs[r.bufTail&(bufCount-1)]
	b.addr = uint64(uintptr(unsafe.Pointer(&r.bufMem[int(bid)*bufSize])))
	b.len, b.bid = bufSize, bid
	r.bufTail++
	// The tail is entry 0's resv: publish it with entry 0's bid in one release store.
	(*atomic.Uint32)(unsafe.Pointer(&r.bufs[0].bid)).Store(uint32(r.bufTail)<<16 | uint32(r.bufs[0].bid))
}

// next returns a zeroed submission entry, submitting what is queued when the queue is full.
func (r *ring) next() *sqe {
	for r.sqLocalTail-atomic.LoadUint32(r.sqHead) >= uint32(len(r.sqes)) {
		r.enter(0)
	}
	i := r.sqLocalTail & *r.sqMask
	r.sqLocalTail++
	r.toSubmit++
	s := &r.sqes[i]
	*s = sqe{}
	r.sqArray[i] = i
	return s
}

// enter submits what is queued and waits until the completion queue holds at least wait
// entries. It is a raw call: the loop keeps its P while it waits, as switchyard's loops
// do under load, so that its return costs no hand-off of the P; the server gives
// GOMAXPROCS one P beyond the loops for everything else.
func (r *ring) enter(wait uint32) {
	atomic.StoreUint32(r.sqTail, r.sqLocalTail)
	flags := uintptr(0)
	if wait > 0 {
		flags = enterGetEvents
	}
	for {
		n, _, errno := syscall.RawSyscall6(sysIOUringEnter, uintptr(r.fd), uintptr(r.toSubmit), uintptr(wait), flags, 0, 0)
		switch errno {
		case 0:
			r.toSubmit -= uint32(n)
			return
		case syscall.EINTR:
			runtime.Gosched() // sysmon's preemption signal, or the GC's
		default:
			panic(fmt.Sprintf("io_uring_enter: %v", errno))
		}
	}
}

// completions calls fn for each completion queued, then frees their slots.
func (r *ring) completions(fn func(e cqe)) {
	head, tail := *r.cqHead, atomic.LoadUint32(r.cqTail)
	for ; head != tail; head++ {
		fn(r.cqes[head&*r.cqMask])
	}
	atomic.StoreUint32(r.cqHead, head)
}

func (r *ring) close() {
	for _, m := range r.maps {
		_ = unix.Munmap(m)
	}
	r.maps = nil
	_ = unix.Close(r.fd)
}
