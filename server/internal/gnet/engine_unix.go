// Copyright (c) 2019 The Gnet Authors. All rights reserved.
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

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	errorx "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/logging"
	"github.com/panjf2000/gnet/v2/pkg/queue"
	"github.com/panjf2000/gnet/v2/pkg/socket"
	"github.com/switchyard-dev/switchyard/server/internal/gnet/internal/netpoll"
)

type engine struct {
	listeners    map[int]*listener // listeners for accepting incoming connections
	opts         *Options          // options with engine
	eventLoops   loadBalancer      // event-loops for handling events
	inShutdown   atomic.Bool       // whether the engine is in shutdown
	turnOff      context.CancelFunc
	eventHandler EventHandler      // user eventHandler
	reserve      *fdReserve        // switchyard patch: see accept_errors.go
	loopGroup    netpoll.LoopGroup // switchyard patch: see netpoll/hold_linux.go
	concurrency  struct {
		*errgroup.Group

		ctx context.Context
	}
}

func (eng *engine) isShutdown() bool {
	return eng.inShutdown.Load()
}

// shutdown signals the engine to shut down.
func (eng *engine) shutdown(err error) {
	if err != nil && !errors.Is(err, errorx.ErrEngineShutdown) {
		eng.opts.Logger.Errorf("engine is being shutdown with error: %v", err)
	}
	// Cancel the context to stop the engine.
	eng.turnOff()
}

func (eng *engine) closeEventLoops() {
	eng.eventLoops.iterate(func(_ int, el *eventloop) bool {
		for _, ln := range el.listeners {
			ln.close()
		}
		_ = el.poller.Close()
		return true
	})
}

func (eng *engine) runEventLoops(ctx context.Context, numEventLoop int) error {
	var el0 *eventloop
	lns := eng.listeners
	// Create loops locally and bind the listeners.
	shared := eng.sharedListener() // Switchyard patch: see accept_shared.go
	for i := 0; i < numEventLoop; i++ {
		if i > 0 && !shared {
			lns = make(map[int]*listener, len(eng.listeners))
			for _, l := range eng.listeners {
				ln, err := initListener(l.network, l.address, eng.opts)
				if err != nil {
					return err
				}
				lns[ln.fd] = ln
			}
		}
		p, err := eng.openPoller()
		if err != nil {
			return err
		}
		el := new(eventloop)
		el.listeners = lns
		el.engine = eng
		el.poller = p
		el.buffer = make([]byte, eng.opts.ReadBufferCap)
		el.connections.init()
		el.eventHandler = eng.eventHandler
		el.watchTasks() // Switchyard patch: see tasks_done.go
		for _, ln := range lns {
			if shared {
				err = el.poller.AddReadExclusive(&netpoll.PollAttachment{FD: ln.fd, Callback: el.accept})
			} else {
				err = el.poller.AddRead(ln.packPollAttachment(el.accept), false)
			}
			if err != nil {
				return err
			}
		}
		eng.eventLoops.register(el)

		// Start the ticker.
		if eng.opts.Ticker && el.idx == 0 {
			el0 = el
		}
	}

	// Start event-loops in the background.
	eng.eventLoops.iterate(func(_ int, el *eventloop) bool {
		eng.concurrency.Go(el.run)
		return true
	})

	if el0 != nil {
		eng.concurrency.Go(func() error {
			el0.ticker(ctx)
			return nil
		})
	}

	return nil
}

// errNoAcceptor is a Switchyard patch: this copy has no acceptor loop (upstream's main
// reactor, which accepted for all the loops when neither SharedListener nor ReusePort
// was set), so every loop accepts what it serves and one of the two must be set.
var errNoAcceptor = errors.New("gnet: WithSharedListener(true) or WithReusePort(true) is required (no acceptor loop)")

func (eng *engine) stop(ctx context.Context, s Engine) {
	// Wait on a signal for shutdown
	<-ctx.Done()

	eng.eventHandler.OnShutdown(s)

	// Notify all event-loops to exit.
	eng.eventLoops.iterate(func(i int, el *eventloop) bool {
		err := el.poller.Trigger(queue.HighPriority, func(_ any) error { return errorx.ErrEngineShutdown }, nil)
		if err != nil {
			eng.opts.Logger.Errorf("failed to enqueue shutdown signal of high-priority for event-loop(%d): %v", i, err)
		}
		return true
	})

	if err := eng.concurrency.Wait(); err != nil {
		eng.opts.Logger.Errorf("engine shutdown error: %v", err)
	}

	// Close all listeners and pollers of event-loops.
	eng.closeEventLoops()

	eng.reserve.close()

	// Put the engine into the shutdown state.
	eng.inShutdown.Store(true)
}

func run(eventHandler EventHandler, listeners []*listener, options *Options, addrs []string) error {
	if !options.ReusePort && !options.SharedListener { // Switchyard patch: see errNoAcceptor
		return errNoAcceptor
	}
	numEventLoop := determineEventLoops(options)
	logging.Infof("Launching gnet with %d event-loops, listening on: %s",
		numEventLoop, strings.Join(addrs, " | "))

	lns := make(map[int]*listener, len(listeners))
	for _, ln := range listeners {
		lns[ln.fd] = ln
	}
	rootCtx, shutdown := context.WithCancel(context.Background())
	eg, ctx := errgroup.WithContext(rootCtx)
	eng := engine{
		listeners:    lns,
		opts:         options,
		reserve:      newFDReserve(),
		turnOff:      shutdown,
		eventHandler: eventHandler,
		concurrency: struct {
			*errgroup.Group
			ctx context.Context
		}{eg, ctx},
	}
	switch options.LB {
	case RoundRobin:
		eng.eventLoops = new(roundRobinLoadBalancer)
	case LeastConnections:
		eng.eventLoops = new(leastConnectionsLoadBalancer)
	case SourceAddrHash:
		eng.eventLoops = new(sourceAddrHashLoadBalancer)
	}

	e := Engine{&eng}
	switch eng.eventHandler.OnBoot(e) {
	case None, Close:
	case Shutdown:
		eng.reserve.close()
		return nil
	}

	if err := eng.runEventLoops(ctx, numEventLoop); err != nil {
		eng.closeEventLoops()
		eng.reserve.close()
		eng.opts.Logger.Errorf("gnet engine is stopping with error: %v", err)
		return err
	}
	// Switchyard patch: the registry that the deprecated global Stop reads forgets the
	// engine once it has stopped (this defer runs after eng.stop). Upstream deletes an
	// entry only in that global Stop, so every engine stopped through Engine.Stop stayed
	// reachable from allEngines, and with it its loops, their buffers and the handler
	// (a whole switchyard Server: ~170 KiB per Serve/Shutdown cycle, no connection).
	defer func() {
		for _, addr := range addrs {
			allEngines.CompareAndDelete(addr, &eng)
		}
	}()
	defer eng.stop(rootCtx, e)

	for _, addr := range addrs {
		allEngines.Store(addr, &eng)
	}

	// Switchyard patch: OnBoot runs before the event loops exist, so a handler that
	// wants to act on the running engine (close its listeners, stop it) learns here
	// that it may.
	if h, ok := eventHandler.(interface{ OnRun(Engine) }); ok {
		h.OnRun(e)
	}

	return nil
}

func setKeepAlive(fd int, enabled bool, idle, intvl time.Duration, cnt int) error {
	if intvl == 0 {
		intvl = idle / 5
	}
	if cnt == 0 {
		cnt = 5
	}
	return socket.SetKeepAlive(fd, enabled, int(idle.Seconds()), int(intvl.Seconds()), cnt)
}

/*
func (eng *engine) sendCmd(cmd *asyncCmd, urgent bool) error {
	if !gfd.Validate(cmd.fd) {
		return errors.ErrInvalidConn
	}
	el := eng.eventLoops.index(cmd.fd.EventLoopIndex())
	if el == nil {
		return errors.ErrInvalidConn
	}
	if urgent {
		return el.poller.Trigger(queue.LowPriority, el.execCmd, cmd)
	}
	return el.poller.Trigger(el.execCmd, cmd)
}
*/

// openPoller opens a loop's poller with the engine's idle spins and wait (Switchyard patch).
func (eng *engine) openPoller() (*netpoll.Poller, error) {
	p, err := netpoll.OpenPoller()
	if err == nil {
		p.SetIdleSpins(eng.opts.IdleSpins)
		if eng.opts.HoldP {
			p.HoldPWhileActive(&eng.loopGroup)
		}
	}
	return p, err
}
