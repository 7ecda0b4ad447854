// Copyright (c) 2019 Andy Pan
// Copyright (c) 2017 Joshua J Baker
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//go:build linux

package netpoll

import (
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	errorx "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/logging"
	"github.com/panjf2000/gnet/v2/pkg/queue"
)

// Poller represents a poller which is in charge of monitoring file-descriptors.
type Poller struct {
	fd                          int    // epoll fd
	efd                         int    // eventfd
	efdBuf                      []byte // efd buffer to read an 8-byte integer
	wakeupCall                  int32
	asyncTaskQueue              queue.AsyncTaskQueue // queue with low priority
	order                       taskOrder            // Switchyard patch: task_order.go
	urgentAsyncTaskQueue        queue.AsyncTaskQueue // queue with high priority
	highPriorityEventsThreshold int32                // threshold of high-priority events
	idleSpins                   int                  // Switchyard patch: see SetIdleSpins
	park                        *runtimePark         // Switchyard patch: see park_linux.go
	holdP                       bool                 // Switchyard patch: see hold_linux.go
	group                       *LoopGroup           // Switchyard patch: see hold_linux.go
	tasksDone                   func()               // Switchyard patch: see OnTasksDone
}

// SetIdleSpins sets how many times at most Polling, once it finds no event, yields the
// CPU and polls again before it blocks in epoll_wait (Switchyard patch; 0 blocks at
// once, as upstream does). Whether it spins at all after a batch is the spin pacer's
// call: only while its recent idle gaps were short (spin_pacer.go). Call it before
// Polling.
//
// Why: a loop that has just run out of events usually gets more within microseconds,
// from the same clients. Blocking costs a context switch out and, when the next packet
// comes, a wakeup of the sleeping thread, which on a VM is an inter-processor interrupt
// and a hypervisor exit, paid by the sender; and the Go runtime hands the loop's P to
// another thread while it blocks in the system call. Yielding with sched_yield instead of
// spinning in user space lets any other runnable thread on this CPU (a handler on the
// worker pool, a client on the same machine) have the CPU meanwhile (figures in the
// fork's README); see server.Config.IdleSpins.
func (p *Poller) SetIdleSpins(n int) { p.idleSpins = max(n, 0) }

// HoldPWhileActive has Polling, while its idle gaps are shorter than holdTimeout, sleep
// in a raw epoll_pwait that keeps the loop's P (hold_linux.go), and otherwise park in Go's
// netpoller (park_linux.go) rather than in its own epoll_wait (Switchyard patch). Call it
// before Polling, with the same group for every loop of an engine.
func (p *Poller) HoldPWhileActive(group *LoopGroup) {
	p.holdP, p.group = true, group
	if p.park == nil {
		p.park = newRuntimePark(p.fd, group)
	}
	procsRead.Store(int64(time.Since(epoch)))
	maxHolders.Store(holdersFor(runtime.GOMAXPROCS(0)))
}

// sleep waits for events without keeping the P: parked in Go's netpoller if the loop holds
// it while active (HoldPWhileActive), else in epoll_wait as upstream does.
func (p *Poller) sleep(events []unix.EpollEvent) (int, error) {
	if p.park != nil {
		return p.park.wait(events)
	}
	return unix.EpollWait(p.fd, events, -1)
}

// spinHook, when set (by tests, before Polling), is called at every idle spin.
var spinHook func()

// OpenPoller instantiates a poller.
func OpenPoller() (poller *Poller, err error) {
	poller = new(Poller)
	if poller.fd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		poller = nil
		err = os.NewSyscallError("epoll_create1", err)
		return
	}
	if poller.efd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		_ = poller.Close()
		poller = nil
		err = os.NewSyscallError("eventfd", err)
		return
	}
	poller.efdBuf = make([]byte, 8)
	if err = poller.AddRead(&PollAttachment{FD: poller.efd}, true); err != nil {
		_ = poller.Close()
		poller = nil
		return
	}
	poller.asyncTaskQueue = queue.NewLockFreeQueue()
	poller.urgentAsyncTaskQueue = queue.NewLockFreeQueue()
	poller.highPriorityEventsThreshold = MaxPollEventsCap
	return
}

// Close closes the poller.
func (p *Poller) Close() error {
	if p.park != nil {
		p.park.close()
	}
	_ = unix.Close(p.efd)
	return os.NewSyscallError("close", unix.Close(p.fd))
}

// Make the endianness of bytes compatible with more linux OSs under different processor-architectures,
// according to http://man7.org/linux/man-pages/man2/eventfd.2.html.
var (
	u uint64 = 1
	b        = (*(*[8]byte)(unsafe.Pointer(&u)))[:]
)

// Trigger enqueues task and wakes up the poller to process pending tasks.
// By default, any incoming task will enqueued into urgentAsyncTaskQueue
// before the threshold of high-priority events is reached. When it happens,
// any asks other than high-priority tasks will be shunted to asyncTaskQueue.
//
// Note that asyncTaskQueue is a queue of low-priority whose size may grow large and tasks in it may backlog.
func (p *Poller) Trigger(priority queue.EventPriority, fn queue.Func, param any) (err error) {
	task := queue.GetTask()
	task.Exec, task.Param = fn, param
	if p.order.toLowPriority(priority, p.urgentAsyncTaskQueue, p.highPriorityEventsThreshold) {
		p.asyncTaskQueue.Enqueue(task)
	} else {
		// There might be some low-priority tasks overflowing into urgentAsyncTaskQueue in a flash,
		// but that's tolerable because it ought to be a rare case.
		p.urgentAsyncTaskQueue.Enqueue(task)
	}
	if atomic.CompareAndSwapInt32(&p.wakeupCall, 0, 1) {
		for {
			_, err = unix.Write(p.efd, b)
			if err == unix.EAGAIN {
				_, _ = unix.Read(p.efd, p.efdBuf)
				continue
			}
			break
		}
	}
	return os.NewSyscallError("write", err)
}

// Polling blocks the current goroutine, monitoring the registered file descriptors and waiting for network I/O.
// When I/O occurs on any of the file descriptors, the provided callback function is invoked.
func (p *Poller) Polling(callback PollEventHandler) error {
	el := newEventList(InitPollEventsCap)
	var doChores bool

	msec := -1
	// Switchyard patch: after each batch the pacer says how many empty polls (spins) the
	// loop makes before it sleeps (SetIdleSpins); idle says a gap is being timed for it
	// and for holding the P (hold_linux.go).
	pacer := newSpinPacer(p.idleSpins)
	spins, spinLimit, idle := 0, 0, false
	hold := holdState{on: p.holdP, handoffs: handoffs.Load(), group: p.group, sleep: p.sleep}
	for {
		var n int
		var err error
		switch {
		case msec < 0 && hold.holding:
			n, err = hold.wait(p.fd, el.events, pacer.idleAt, pacer.now())
		case msec == 0:
			// A poll that cannot block keeps the P (see rawio_linux.go in the fork's root).
			n, err = rawEpollWait(p.fd, el.events, 0)
		default:
			n, err = p.sleep(el.events)
		}
		if n == 0 || (n < 0 && err == unix.EINTR) {
			if msec == 0 && spins < spinLimit {
				spins++
				if spinHook != nil {
					spinHook()
				}
				// RawSyscall: sched_yield does not block, so the P stays with this
				// thread; entersyscall would only invite the runtime to hand it off.
				_, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
				continue
			}
			msec = -1
			// Upstream yields before it blocks, so that what the batch readied on this P
			// runs first; a loop that holds its P yields for a handoff or a signal
			// (hold_linux.go).
			if !hold.holding || err == unix.EINTR {
				runtime.Gosched()
			}
			continue
		} else if err != nil {
			logging.Errorf("error occurs in epoll: %v", os.NewSyscallError("epoll_wait", err))
			return err
		}
		if idle {
			hold.arrived(pacer.arrived(pacer.now()))
			idle = false
		}

		for i := 0; i < n; i++ {
			ev := &el.events[i]
			if fd := int(ev.Fd); fd == p.efd { // poller is awakened to run tasks in queues.
				doChores = true
			} else {
				err = callback(fd, ev.Events, 0)
				if errors.Is(err, errorx.ErrAcceptSocket) || errors.Is(err, errorx.ErrEngineShutdown) {
					return err
				}
			}
		}

		if doChores {
			doChores = false
			task := p.urgentAsyncTaskQueue.Dequeue()
			for ; task != nil; task = p.urgentAsyncTaskQueue.Dequeue() {
				err = task.Exec(task.Param)
				if errors.Is(err, errorx.ErrEngineShutdown) {
					return err
				}
				queue.PutTask(task)
			}
			for i := 0; i < MaxAsyncTasksAtOneTime; i++ {
				if task = p.asyncTaskQueue.Dequeue(); task == nil {
					break
				}
				p.order.took()
				err = task.Exec(task.Param)
				if errors.Is(err, errorx.ErrEngineShutdown) {
					return err
				}
				queue.PutTask(task)
			}
			if p.tasksDone != nil {
				p.tasksDone() // Switchyard patch: see OnTasksDone
			}
			atomic.StoreInt32(&p.wakeupCall, 0)
			if (!p.asyncTaskQueue.IsEmpty() || !p.urgentAsyncTaskQueue.IsEmpty()) && atomic.CompareAndSwapInt32(&p.wakeupCall, 0, 1) {
				for {
					_, err = unix.Write(p.efd, b)
					if err == unix.EAGAIN {
						_, _ = unix.Read(p.efd, p.efdBuf)
						continue
					}
					if err != nil {
						logging.Errorf("failed to notify next round of event-loop for leftover tasks, %v", os.NewSyscallError("write", err))
					}
					break
				}
			}
		}

		if n == el.size {
			el.expand()
		} else if n < el.size>>1 {
			el.shrink()
		}

		// The batch is done: spin if the pacer expects more soon, else sleep at once
		// (after letting what the batch readied on this P run).
		spins = 0
		spinLimit, idle = pacer.ranOut(pacer.now()), true
		if spinLimit > 0 {
			msec = 0
		} else {
			msec = -1
			if !hold.holding {
				runtime.Gosched()
			}
		}
	}
}

// AddReadWrite registers the given file descriptor with readable and writable events to the poller.
func (p *Poller) AddReadWrite(pa *PollAttachment, edgeTriggered bool) error {
	var ev uint32 = ReadWriteEvents
	if edgeTriggered {
		ev |= unix.EPOLLET | unix.EPOLLRDHUP
	}
	return os.NewSyscallError("epoll_ctl add",
		unix.EpollCtl(p.fd, unix.EPOLL_CTL_ADD, pa.FD, &unix.EpollEvent{Fd: int32(pa.FD), Events: ev}))
}

// AddRead registers the given file descriptor with readable event to the poller.
func (p *Poller) AddRead(pa *PollAttachment, edgeTriggered bool) error {
	var ev uint32 = ReadEvents
	if edgeTriggered {
		ev |= unix.EPOLLET | unix.EPOLLRDHUP
	}
	return os.NewSyscallError("epoll_ctl add",
		unix.EpollCtl(p.fd, unix.EPOLL_CTL_ADD, pa.FD, &unix.EpollEvent{Fd: int32(pa.FD), Events: ev}))
}

// AddReadExclusive registers a listener shared by several pollers, level-triggered,
// with EPOLLEXCLUSIVE: a new connection wakes one of the loops asleep on it, not every
// one (Switchyard patch; see Options.SharedListener). EPOLLEXCLUSIVE takes EPOLLIN but
// not EPOLLPRI or EPOLLRDHUP (EINVAL); errors and hang-ups are reported anyway.
func (p *Poller) AddReadExclusive(pa *PollAttachment) error {
	return os.NewSyscallError("epoll_ctl add",
		unix.EpollCtl(p.fd, unix.EPOLL_CTL_ADD, pa.FD, &unix.EpollEvent{Fd: int32(pa.FD), Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE}))
}

// AddWrite registers the given file descriptor with writable event to the poller.
func (p *Poller) AddWrite(pa *PollAttachment, edgeTriggered bool) error {
	var ev uint32 = WriteEvents
	if edgeTriggered {
		ev |= unix.EPOLLET | unix.EPOLLRDHUP
	}
	return os.NewSyscallError("epoll_ctl add",
		unix.EpollCtl(p.fd, unix.EPOLL_CTL_ADD, pa.FD, &unix.EpollEvent{Fd: int32(pa.FD), Events: ev}))
}

// ModRead modifies the given file descriptor with readable event in the poller.
func (p *Poller) ModRead(pa *PollAttachment, edgeTriggered bool) error {
	var ev uint32 = ReadEvents
	if edgeTriggered {
		ev |= unix.EPOLLET | unix.EPOLLRDHUP
	}
	return os.NewSyscallError("epoll_ctl mod",
		unix.EpollCtl(p.fd, unix.EPOLL_CTL_MOD, pa.FD, &unix.EpollEvent{Fd: int32(pa.FD), Events: ev}))
}

// ModReadWrite modifies the given file descriptor with readable and writable events in the poller.
func (p *Poller) ModReadWrite(pa *PollAttachment, edgeTriggered bool) error {
	var ev uint32 = ReadWriteEvents
	if edgeTriggered {
		ev |= unix.EPOLLET | unix.EPOLLRDHUP
	}
	return os.NewSyscallError("epoll_ctl mod",
		unix.EpollCtl(p.fd, unix.EPOLL_CTL_MOD, pa.FD, &unix.EpollEvent{Fd: int32(pa.FD), Events: ev}))
}

// Delete removes the given file descriptor from the poller.
func (p *Poller) Delete(fd int) error {
	return os.NewSyscallError("epoll_ctl del", unix.EpollCtl(p.fd, unix.EPOLL_CTL_DEL, fd, nil))
}
