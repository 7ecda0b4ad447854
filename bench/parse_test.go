package bench

import (
	"slices"
	"testing"
	"time"
)

func slicesSort(v []time.Duration) { slices.Sort(v) }

const wrkOut = `Running 5s test @ http://127.0.0.1:8080/
  1 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.41ms  512.30us  12.00ms   90.00%
    Req/Sec    70.51k     2.10k   74.00k    80.00%
  Latency Distribution
     50%    1.30ms
     75%    1.50ms
     90%    1.90ms
     99%    3.10ms
  350912 requests in 5.00s, 50.53MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:  70182.40
Transfer/sec:     10.11MB
`

const h2loadOut = `starting benchmark...
finished in 2.53s, 79051.38 req/s, 3.12MB/s
requests: 200000 total, 200000 started, 200000 done, 199990 succeeded, 10 failed, 0 errored, 0 timeout
status codes: 199990 2xx, 0 3xx, 10 4xx, 0 5xx
traffic: 7.89MB (8273160) total, 1.15MB (1200000) headers (space savings 90.00%), 5.72MB (6000000) data
                     min         max         mean         sd        +/- sd
time for request:      139us     12.47ms      1.20ms       520us    71.61%
`

func TestParseWrk(t *testing.T) {
	m, err := parseWrk([]byte(wrkOut))
	if err != nil {
		t.Fatal(err)
	}
	if m.Ops != 350912 || m.Rate != 70182.40 || m.Errors != 3 {
		t.Fatalf("ops %d rate %v errors %d", m.Ops, m.Rate, m.Errors)
	}
	if m.Latency.P50 != 1300 || m.Latency.P90 != 1900 || m.Latency.P99 != 3100 || m.Latency.Max != 12000 {
		t.Fatalf("latency %+v", m.Latency)
	}
	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused")); err == nil {
		t.Fatal("wrk failure parsed as a result")
	}
}

func TestParseH2load(t *testing.T) {
	m, err := parseH2load([]byte(h2loadOut))
	if err != nil {
		t.Fatal(err)
	}
	if m.Rate != 79051.38 || m.Ops != 199990 || m.Errors != 10 || m.Latency.Mean != 1200 || m.Latency.Max != 12470 {
		t.Fatalf("%+v", m)
	}
}

func TestProcReadsThisProcess(t *testing.T) {
	// Spin until the count moves: however little CPU a busy machine gives the test, it
	// gets some, and the guard only catches a SelfCPU that never moves.
	cpu0 := SelfCPU()
	for guard := time.Now().Add(hangGuard); SelfCPU() <= cpu0; {
		if time.Now().After(guard) {
			t.Fatalf("SelfCPU did not advance in %v of spinning", hangGuard)
		}
	}
	rss, err := ProcRSS(pidSelf())
	if err != nil || rss <= 0 {
		t.Fatalf("rss %d, %v", rss, err)
	}
	if _, err := ProcCPU(pidSelf()); err != nil {
		t.Fatal(err)
	}
}

func TestMedian(t *testing.T) {
	cases := []struct {
		name string
		in   []float64
		want float64
	}{{"odd count takes the middle", []float64{3, 1, 2}, 2}, {"even count averages the middle two", []float64{4, 1, 3, 2}, 2.5}, {"empty is zero", nil, 0}}
	for _, c := range cases {
		if got := median(c.in); got != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}
