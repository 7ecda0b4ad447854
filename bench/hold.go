package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// HoldParams shape a ws-hold run: Conns idle upgraded connections, spread over child
// processes of at most PerChild connections each (a process may open 20,000 files) and
// one 127.0.0.x source address per child (each has ~28,000 ephemeral ports).
type HoldParams struct {
	Conns    int           `json:"conns"`
	PerChild int           `json:"per_child"`
	Settle   time.Duration `json:"settle"` // wait after the last upgrade before reading RSS
	Path     string        `json:"path"`
	TLS      bool          `json:"-"` // wss: the children connect over TLS (set from Scenario.TLS)
}

// RunHold opens p.Conns idle WebSocket connections to the server at addr (process pid)
// from child processes started as `self <childArgs...> -addr ... -n ... -src ...`, and
// reports the server's RSS before and after and the KiB each connection costs it.
func RunHold(ctx context.Context, addr string, pid int, p HoldParams, self string, childArgs []string, live *Live) (Metrics, error) {
	if p.Path == "" {
		p.Path = "/echo"
	}
	var m Metrics
	time.Sleep(200 * time.Millisecond) // let the server finish starting up
	before, err := ProcRSS(pid)
	if err != nil {
		return m, err
	}
	w := openWindow(pid)
	if p.TLS {
		addr = wssPrefix + addr
	}
	h, err := startHolders(ctx, addr, p.Path, p.Conns, p.PerChild, self, childArgs, live)
	if err != nil {
		return m, err
	}
	sleepCtx(ctx, p.Settle)
	after, err := ProcRSS(pid)
	m.Ops = uint64(h.held)
	m.Conns = h.held
	w.close(&m)
	m.ClientCPU += h.release().Seconds()
	if err != nil {
		return m, err
	}
	m.RSSBeforeKiB, m.RSSAfterKiB = before, after
	m.Errors = uint64(h.errs)
	m.ErrorSample = h.sample
	if m.Conns > 0 {
		m.KiBPerConn = float64(after-before) / float64(m.Conns)
	}
	m.Note = fmt.Sprintf("%d of %d connections held by %d client processes", m.Conns, p.Conns, len(h.kids))
	return m, nil
}

// holders are the child processes holding idle connections for ws-hold and ws-idle.
type holders struct {
	kids   []*exec.Cmd
	stdins []io.Closer
	held   int
	errs   int
	sample string
}

// startHolders starts children of at most perChild connections each, one 127.0.0.x
// source address per child, and returns once every child has reported its connections
// up (or failed).
func startHolders(ctx context.Context, addr, path string, conns, perChild int, self string, childArgs []string, live *Live) (*holders, error) {
	if perChild <= 0 {
		perChild = 10000
	}
	var (
		h        = &holders{}
		wg       sync.WaitGroup
		held     atomic.Int64
		errCount atomic.Int64
		mu       sync.Mutex
	)
	for i, left := 0, conns; left > 0; i++ {
		n := min(left, perChild)
		left -= n
		args := append(append([]string(nil), childArgs...), "-addr", addr, "-path", path,
			"-n", strconv.Itoa(n), "-src", fmt.Sprintf("127.0.0.%d", 10+i))
		cmd := exec.CommandContext(ctx, self, args...)
		cmd.Stderr = os.Stderr
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			h.release()
			return nil, err
		}
		h.kids, h.stdins = append(h.kids, cmd), append(h.stdins, in)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The child prints "held N errors E [sample]" once its connections are up.
			line, _ := bufio.NewReader(out).ReadString('\n')
			f := strings.SplitN(strings.TrimSpace(line), " ", 5)
			if len(f) < 4 || f[0] != "held" {
				errCount.Add(int64(n))
				mu.Lock()
				h.sample = fmt.Sprintf("hold child said %q", line)
				mu.Unlock()
				return
			}
			k, _ := strconv.Atoi(f[1])
			e, _ := strconv.Atoi(f[3])
			held.Add(int64(k))
			errCount.Add(int64(e))
			live.add(uint64(k))
			if len(f) == 5 {
				mu.Lock()
				h.sample = f[4]
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	h.held, h.errs = int(held.Load()), int(errCount.Load())
	return h, nil
}

// cpu is the CPU time the live children have used so far (ProcCPUFine).
func (h *holders) cpu() time.Duration {
	var sum time.Duration
	for _, k := range h.kids {
		if d, err := ProcCPUFine(k.Process.Pid); err == nil {
			sum += d
		}
	}
	return sum
}

// release closes the children's stdin, which makes them close their connections and
// exit, and returns the CPU time they used in all (their rusage).
func (h *holders) release() time.Duration {
	for _, in := range h.stdins {
		in.Close()
	}
	var cpu time.Duration
	for _, k := range h.kids {
		_ = k.Wait()
		if k.ProcessState != nil {
			if ru, ok := k.ProcessState.SysUsage().(*syscall.Rusage); ok {
				cpu += tv(ru.Utime) + tv(ru.Stime)
			}
		}
	}
	return cpu
}

// HoldChild is the child side of ws-hold: it opens n upgraded connections from source
// address src, prints "held N errors E [sample]", then holds them, reading nothing,
// until its stdin closes. An addr of wss://host:port holds them over TLS (tls.go).
func HoldChild(addr, path string, n int, src string) error {
	ip := net.ParseIP(src)
	if ip == nil {
		return fmt.Errorf("bad -src %q", src)
	}
	addr, wss := splitWSS(addr)
	d := newDialer(addr, path, []net.IP{ip}, false)
	if wss {
		d.tls = benchTLSConfig()
	}
	var (
		mu     sync.Mutex
		conns  = make([]net.Conn, 0, n)
		errs   atomic.Int64
		sample atomic.Value
		next   atomic.Int64
		wg     sync.WaitGroup
	)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				c, _, err := d.dial(context.Background())
				if err != nil {
					errs.Add(1)
					sample.Store(err.Error())
					continue
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s, _ := sample.Load().(string)
	fmt.Printf("held %d errors %d %s\n", len(conns), errs.Load(), s)
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		if tc, ok := c.(*tls.Conn); ok {
			c = tc.NetConn() // no close_notify: reset like the cleartext ones
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
	return nil
}
