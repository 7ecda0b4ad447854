package soak

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// proto names the three protocols the well-behaved clients speak.
type proto int

const (
	protoH1 proto = iota
	protoWS
	protoH2
	numProtos
)

var protoNames = [numProtos]string{"http1", "websocket", "http2"}

// bound is what a kind of client expects a server counter to have grown by: at least min
// (what the clients saw confirmed: a response, a 101, an echo) and at most max (what they
// sent whole). Well-behaved clients add the same to both; a fault client that hung up
// before learning whether the server took its last request adds it to max only.
type bound struct{ min, max atomic.Int64 }

func (b *bound) check(name string, got uint64) string {
	lo, hi := b.min.Load(), b.max.Load()
	if int64(got) < lo || int64(got) > hi {
		if lo == hi {
			return fmt.Sprintf("%s: server counted %d, clients counted %d", name, got, lo)
		}
		return fmt.Sprintf("%s: server counted %d, clients counted between %d and %d", name, got, lo, hi)
	}
	return ""
}

// tally is what all clients counted. Every field is safe for concurrent use.
type tally struct {
	start  time.Time
	bucket time.Duration

	conns     [numProtos]atomic.Int64 // well-behaved connections
	exchanges [numProtos]atomic.Int64 // well-behaved exchanges that came back intact
	maxLat    [numProtos]atomic.Int64 // slowest well-behaved exchange, ns
	faultConn atomic.Int64            // connections opened by fault injectors
	lost      atomic.Int64            // well-behaved exchanges lost, corrupted, reordered or failed

	// Expectations for the server's counters.
	requests  bound        // Stats.Requests
	ws101     bound        // Outcomes{101, websocket}
	h2c101    bound        // Outcomes{101, h2c}
	h2Streams bound        // Stats.Streams
	wsIn      bound        // Stats.MessagesIn
	wsEchoed  atomic.Int64 // echoes clients received: a floor for Stats.MessagesOut
	wsDropped bound        // messages slow readers sent minus echoes they got back: Stats.Dropped

	wsSent, wsCompressed, wsFragmented, h1Requests, h2Requests atomic.Int64

	mu        sync.Mutex
	faults    map[string]int64         // injected, by kind
	faultTime map[string]time.Duration // the longest one took, by kind
	seenBy    map[string]int64         // answers fault clients saw: statuses, close codes, GOAWAY codes
	progress  [numProtos]map[int]int64
	errs      []string
	lostErrs  []string
	errKinds  map[string]int // failed fault checks by the kind in their message
	nerrs     int
	late      map[int]time.Duration // the heartbeat's worst lateness, by bucket
}

func newTally(bucket time.Duration) *tally {
	t := &tally{start: time.Now(), bucket: bucket, faults: map[string]int64{}, seenBy: map[string]int64{},
		faultTime: map[string]time.Duration{}, late: map[int]time.Duration{}, errKinds: map[string]int{}}
	for i := range t.progress {
		t.progress[i] = map[int]int64{}
	}
	return t
}

// done records one intact well-behaved exchange and how long it took.
func (t *tally) done(p proto, began time.Time) {
	now := time.Now()
	t.exchanges[p].Add(1)
	lat := int64(now.Sub(began))
	for {
		old := t.maxLat[p].Load()
		if lat <= old || t.maxLat[p].CompareAndSwap(old, lat) {
			break
		}
	}
	t.mu.Lock()
	t.progress[p][int(now.Sub(t.start)/t.bucket)]++
	t.mu.Unlock()
}

// fail records a lost or failed well-behaved exchange.
func (t *tally) fail(p proto, format string, args ...any) {
	t.lost.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lostErrs) < 20 {
		t.lostErrs = append(t.lostErrs, fmt.Sprintf(protoNames[p]+": "+format, args...))
	}
}

// errorf records a failed check that is not a lost exchange (a fault the server handled
// wrongly). The first few messages are kept for the report.
func (t *tally) errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nerrs++
	msg := fmt.Sprintf(format, args...)
	kind, _, _ := strings.Cut(msg, ":")
	t.errKinds[kind]++
	if len(t.errs) < 20 {
		t.errs = append(t.errs, msg)
	}
}

// beat records how late the test process's own heartbeat ran: a process the machine does
// not schedule cannot serve, whatever the server does.
func (t *tally) beat(late time.Duration) {
	b := int(time.Since(t.start) / t.bucket)
	t.mu.Lock()
	t.late[b] = max(t.late[b], late)
	t.mu.Unlock()
}

func (t *tally) fault(kind string, took time.Duration) {
	t.faultConn.Add(1)
	t.mu.Lock()
	t.faults[kind]++
	t.faultTime[kind] = max(t.faultTime[kind], took)
	t.mu.Unlock()
}

// gaps lists the buckets of the run, up to end, in which a protocol completed nothing,
// except those in which the test process itself was starved of CPU (its heartbeat ran a
// quarter of a bucket late), which it counts apart.
func (t *tally) gaps(end time.Duration) (gaps []string, starved int, worst time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for b := 0; b < int(end/t.bucket); b++ {
		worst = max(worst, t.late[b])
		if t.late[b] > t.bucket/4 {
			starved++
		}
	}
	var out []string
	for p := range numProtos {
		for b := 0; b < int(end/t.bucket); b++ {
			if t.progress[p][b] == 0 && t.late[b] <= t.bucket/4 {
				out = append(out, fmt.Sprintf("%s: nothing completed in [%v, %v)",
					protoNames[p], time.Duration(b)*t.bucket, time.Duration(b+1)*t.bucket))
			}
		}
	}
	return out, starved, worst
}

func (t *tally) faultSummary() (total int64, list string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.faults))
	for k := range t.faults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%d", k, t.faults[k])
		total += t.faults[k]
	}
	return total, b.String()
}

// seen counts an answer a fault client got, to compare with the server's own counters.
func (t *tally) seen(what string) {
	t.mu.Lock()
	t.seenBy[what]++
	t.mu.Unlock()
}

func (t *tally) seenCount(what string) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seenBy[what]
}
