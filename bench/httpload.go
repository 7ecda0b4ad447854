package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"time"
)

// WrkParams drive Debian's wrk for the h1 scenario.
type WrkParams struct {
	Threads  int           `json:"threads"`
	Conns    int           `json:"conns"`
	Duration time.Duration `json:"duration"`
}

// H2Params drive nghttp2's h2load for the h2 scenario (cleartext HTTP/2, prior knowledge).
type H2Params struct {
	Requests int `json:"requests"`
	Conns    int `json:"conns"`
	Streams  int `json:"streams"` // concurrent streams per connection (-m)
	// TLS: https:// (h2 by ALPN) instead of cleartext prior knowledge; set by the TLS
	// scenarios (Scenario.TLS).
	TLS bool `json:"-"`
}

// RunWrk runs `wrk -t T -c C -d D --latency http://addr/` and reads its report. The
// client's CPU is wrk's, from its rusage.
func RunWrk(ctx context.Context, addr string, pid int, p WrkParams) (Metrics, error) {
	args := []string{"-t", strconv.Itoa(p.Threads), "-c", strconv.Itoa(p.Conns),
		"-d", fmt.Sprintf("%ds", int(p.Duration.Seconds())), "--latency", "http://" + addr + "/"}
	return runParsed(ctx, pid, parseWrk, "wrk", args...)
}

// RunH2load runs `h2load -n N -c C -m M http://addr/` (https:// with p.TLS) and reads
// its report.
func RunH2load(ctx context.Context, addr string, pid int, p H2Params) (Metrics, error) {
	scheme := "http://"
	if p.TLS {
		scheme = "https://"
	}
	args := []string{"-n", strconv.Itoa(p.Requests), "-c", strconv.Itoa(p.Conns),
		"-m", strconv.Itoa(p.Streams), scheme + addr + "/"}
	return runParsed(ctx, pid, parseH2load, "h2load", args...)
}

// runParsed runs a load tool (runTool) and reads its report with parse; the rate stays
// the tool's own figure, over its exact test time.
func runParsed(ctx context.Context, pid int, parse func([]byte) (Metrics, error), name string, args ...string) (Metrics, error) {
	out, w, err := runTool(ctx, pid, name, args...)
	if err != nil {
		return Metrics{}, err
	}
	m, err := parse(out)
	if err != nil {
		return m, err
	}
	rate := m.Rate
	w.close(&m)
	m.Rate = rate
	return m, nil
}

// runTool runs a load tool to completion inside a measurement window whose client CPU
// is the tool's own.
func runTool(ctx context.Context, pid int, name string, args ...string) ([]byte, *window, error) {
	return runToolIn(ctx, func() *window { return openWindow(pid) }, name, args...)
}

// runToolIn is runTool with the window open chooses (openFineWindow for paced runs).
func runToolIn(ctx context.Context, open func() *window, name string, args ...string) ([]byte, *window, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	w := open()
	err := cmd.Run()
	w.extra = func() time.Duration {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			return tv(ru.Utime) + tv(ru.Stime)
		}
		return 0
	}
	if err != nil {
		return out.Bytes(), w, fmt.Errorf("%s: %v: %s", name, err, lastLines(out.Bytes(), 3))
	}
	return out.Bytes(), w, nil
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in ([\d.]+)(us|ms|s|m)`)
	wrkRate     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkLatency  = regexp.MustCompile(`Latency\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|90|99)(?:\.\d+)?%\s+([\d.]+)(us|ms|s)`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkTransfer = regexp.MustCompile(`Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)`)
)

func parseWrk(out []byte) (Metrics, error) {
	var m Metrics
	r := wrkRequests.FindSubmatch(out)
	rate := wrkRate.FindSubmatch(out)
	if r == nil || rate == nil {
		return m, fmt.Errorf("wrk: unreadable output: %s", lastLines(out, 5))
	}
	m.Ops, _ = strconv.ParseUint(string(r[1]), 10, 64)
	m.Rate, _ = strconv.ParseFloat(string(rate[1]), 64)
	if l := wrkLatency.FindSubmatch(out); l != nil {
		m.Latency.Mean = unitMicros(l[1], l[2])
		m.Latency.Max = unitMicros(l[5], l[6])
	}
	for _, p := range wrkPct.FindAllSubmatch(out, -1) {
		v := unitMicros(p[2], p[3])
		switch string(p[1]) {
		case "50":
			m.Latency.P50 = v
		case "90":
			m.Latency.P90 = v
		case "99":
			m.Latency.P99 = v
		}
	}
	m.Latency.N = m.Ops
	if s := wrkSocket.FindSubmatch(out); s != nil {
		for _, f := range s[1:] {
			n, _ := strconv.ParseUint(string(f), 10, 64)
			m.Errors += n
		}
		m.ErrorSample = string(s[0])
	}
	if s := wrkNon2xx.FindSubmatch(out); s != nil {
		n, _ := strconv.ParseUint(string(s[1]), 10, 64)
		m.Errors += n
		m.ErrorSample = string(s[0])
	}
	if t := wrkTransfer.FindSubmatch(out); t != nil {
		v, _ := strconv.ParseFloat(string(t[1]), 64)
		m.MBps = v * map[string]float64{"B": 1e-6, "KB": 1.024e-3, "MB": 1.048576, "GB": 1073.741824}[string(t[2])]
	}
	return m, nil
}

var (
	h2Finished = regexp.MustCompile(`finished in ([\d.]+)(us|ms|s), ([\d.]+) req/s, ([\d.]+)(B|KB|MB|GB)/s`)
	h2Requests = regexp.MustCompile(`requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
	h2Status   = regexp.MustCompile(`status codes: (\d+) 2xx`)
	h2Time     = regexp.MustCompile(`time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)`)
)

func parseH2load(out []byte) (Metrics, error) {
	var m Metrics
	f := h2Finished.FindSubmatch(out)
	r := h2Requests.FindSubmatch(out)
	if f == nil || r == nil {
		return m, fmt.Errorf("h2load: unreadable output: %s", lastLines(out, 5))
	}
	m.Rate, _ = strconv.ParseFloat(string(f[3]), 64)
	v, _ := strconv.ParseFloat(string(f[4]), 64)
	m.MBps = v * map[string]float64{"B": 1e-6, "KB": 1.024e-3, "MB": 1.048576, "GB": 1073.741824}[string(f[5])]
	total, _ := strconv.ParseUint(string(r[1]), 10, 64)
	ok2xx := uint64(0)
	if s := h2Status.FindSubmatch(out); s != nil {
		ok2xx, _ = strconv.ParseUint(string(s[1]), 10, 64)
	}
	m.Ops = ok2xx
	if ok2xx < total {
		m.Errors = total - ok2xx
		m.ErrorSample = string(r[0])
	}
	if t := h2Time.FindSubmatch(out); t != nil {
		m.Latency.Max = unitMicros(t[3], t[4])
		m.Latency.Mean = unitMicros(t[5], t[6])
	}
	m.Latency.N = m.Ops
	return m, nil
}

func unitMicros(v, unit []byte) Micros {
	f, _ := strconv.ParseFloat(string(v), 64)
	switch string(unit) {
	case "ms":
		f *= 1e3
	case "s":
		f *= 1e6
	case "m":
		f *= 60e6
	}
	return Micros(f)
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte(" | ")))
}

// RunH2Paced runs `h2load -c C -m 1 --rps R/C -D D http://addr/`: C connections, each
// sending R/C requests a second (h2load paces each client with a timer; it does not
// spin). h2load has no warm-up with a rate, so the window is its whole run, connects
// included. Its summary has no percentiles: they come from its per-request log
// (--log-file), read into the harness's histogram.
func RunH2Paced(ctx context.Context, addr string, pid int, p PacedParams) (Metrics, error) {
	if p.Conns <= 0 || p.Rate <= 0 {
		return Metrics{}, fmt.Errorf("h2-paced: %d connections at %d requests/s", p.Conns, p.Rate)
	}
	logf, err := os.CreateTemp("", "switchyard-h2load-*.tsv")
	if err != nil {
		return Metrics{}, err
	}
	logf.Close()
	defer os.Remove(logf.Name())
	rps := strconv.FormatFloat(float64(p.Rate)/float64(p.Conns), 'f', -1, 64)
	args := []string{"-c", strconv.Itoa(p.Conns), "-m", "1", "--rps", rps,
		"-D", strconv.Itoa(int(p.Duration.Milliseconds())) + "ms", "--log-file", logf.Name(), "http://" + addr + "/"}
	out, w, err := runToolIn(ctx, func() *window { return openFineWindow(pid) }, "h2load", args...)
	if err != nil {
		return Metrics{}, err
	}
	m, err := parseH2load(out)
	if err != nil {
		return m, err
	}
	rate := m.Rate
	w.close(&m)
	m.Rate = rate
	m.Conns = p.Conns
	m.Note = fmt.Sprintf("target %d reqs/s (--rps %s)", p.Rate, rps)
	if log, err := os.ReadFile(logf.Name()); err == nil {
		var h Histogram
		if n := h2loadLatencies(log, &h); n > 0 {
			mean, max := m.Latency.Mean, m.Latency.Max
			m.Latency = h.Summary()
			m.Latency.Mean, m.Latency.Max = mean, max // h2load's own, to the µs
		}
	}
	return m, nil
}

// h2loadLatencies records the response times of h2load's --log-file (start µs, status,
// µs to the end of the response; tab-separated) of the successful requests in h.
func h2loadLatencies(log []byte, h *Histogram) int {
	n := 0
	for _, line := range bytes.Split(log, []byte("\n")) {
		f := bytes.Split(line, []byte("\t"))
		if len(f) < 3 || !bytes.HasPrefix(f[1], []byte("2")) {
			continue
		}
		us, err := strconv.ParseInt(string(bytes.TrimSpace(f[2])), 10, 64)
		if err != nil {
			continue
		}
		h.Record(time.Duration(us) * time.Microsecond)
		n++
	}
	return n
}
