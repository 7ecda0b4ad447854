package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestStampRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		size int
		seq  uint64
		sent int64
	}{
		{0, 0, 0},
		{64, 1, 123456789},
		{200, 9999999999, 9999999999999999},
	} {
		p := newStampPayload(tc.size)
		if want := max(tc.size, minStampSize); len(p) != want {
			t.Fatalf("size %d: payload of %d bytes, want %d", tc.size, len(p), want)
		}
		stamp(p, tc.seq, tc.sent)
		seq, sent, err := parseStamp(p)
		if err != nil || seq != tc.seq || sent != tc.sent {
			t.Fatalf("%s: got %d %d %v, want %d %d", p, seq, sent, err, tc.seq, tc.sent)
		}
		// As centrifuge pushes it: inside its own JSON.
		wrapped := []byte(`{"push":{"channel":"bench","pub":{"data":` + string(p) + `,"offset":3}}}`)
		if seq, sent, err = parseStamp(wrapped); err != nil || seq != tc.seq || sent != tc.sent {
			t.Fatalf("%s: got %d %d %v", wrapped, seq, sent, err)
		}
	}
	for _, bad := range []string{"", `{"s":"12"}`, `{"s":"000000000x","t":"0000000000000000"}`, `{"t":"0000000000000000"}`} {
		if _, _, err := parseStamp([]byte(bad)); err == nil {
			t.Errorf("%q: parsed", bad)
		}
	}
}

func TestSeqWindow(t *testing.T) {
	var w seqWindow
	for i, step := range []struct {
		seq  uint64
		want seqVerdict
	}{
		{5, seqNew}, {5, seqDup}, {6, seqNew}, {4, seqNew}, {4, seqDup}, {100, seqNew},
		{37, seqNew}, {36, seqStale}, {99, seqNew}, {100, seqDup}, {1000, seqNew}, {999, seqNew}, {999, seqDup},
	} {
		if got := w.add(step.seq); got != step.want {
			t.Fatalf("step %d: seq %d is %v, want %v", i, step.seq, got, step.want)
		}
	}
}

func TestCentrifugeReceive(t *testing.T) {
	p := newStampPayload(64)
	stamp(p, 7, 42)
	for _, tc := range []struct {
		name      string
		msg       string
		pubs, ack int
		pong      bool
		err       bool
	}{
		{"connect and subscribe replies", `{"id":1,"connect":{"client":"c","version":"0.0.0"}}` + "\n" + `{"id":2,"subscribe":{}}`, 0, 1, false, false},
		{"ping", `{}`, 0, 0, true, false},
		{"two pushes", `{"push":{"channel":"bench","pub":{"data":` + string(p) + `}}}` + "\n" + `{"push":{"channel":"bench","pub":{"data":` + string(p) + `}}}`, 2, 0, false, false},
		{"join push", `{"push":{"channel":"bench","join":{"info":{}}}}`, 0, 0, false, false},
		{"publish reply", `{"id":9,"publish":{}}`, 0, 0, false, false},
		{"error reply", `{"id":2,"error":{"code":103,"message":"permission denied"}}`, 0, 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out []byte
			acked, pubs := 0, 0
			err := centrifugeReceive([]byte(tc.msg), &out, &acked, func(b []byte) {
				if seq, _, err := parseStamp(b); err != nil || seq != 7 {
					t.Errorf("publication %q: seq %d, %v", b, seq, err)
				}
				pubs++
			})
			if (err != nil) != tc.err || pubs != tc.pubs || acked != tc.ack || (len(out) > 0) != tc.pong {
				t.Fatalf("err %v, %d publications, %d acks, out %q", err, pubs, acked, out)
			}
		})
	}
}

func FuzzParseStamp(f *testing.F) {
	p := newStampPayload(64)
	stamp(p, 3, 4)
	f.Add(p)
	f.Add([]byte(`{"s":"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		seq, sent, err := parseStamp(b)
		if err != nil {
			return
		}
		q := newStampPayload(64)
		stamp(q, seq, sent)
		if s2, t2, err := parseStamp(q); err != nil || s2 != seq || t2 != sent {
			t.Fatalf("%d %d does not round-trip: %d %d %v", seq, sent, s2, t2, err)
		}
	})
}

func FuzzCentrifugeReceive(f *testing.F) {
	f.Add([]byte("{}\n{\"push\":{\"pub\":{\"data\":{\"s\":\"1\"}}}}"))
	f.Add([]byte(`{"id":2,"subscribe":{}}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		var out []byte
		acked := 0
		_ = centrifugeReceive(msg, &out, &acked, func(b []byte) { _, _, _ = parseStamp(b) })
		if acked > strings.Count(string(msg), "\n")+1 {
			t.Fatalf("%d acks from %d lines", acked, strings.Count(string(msg), "\n")+1)
		}
	})
}

// TestTwoNodesSmoke runs ws-broadcast-2nodes at small scale against both servers, as the
// suite does (a nats-server and two node processes each): every subscriber must get
// every message exactly once. It needs the switchyard binary ($SWITCHYARD_BIN, which
// `make test` sets) and nats-server (bin/, installed by `make bench-tools`), and builds
// the peer binary from bench/peers.
func TestTwoNodesSmoke(t *testing.T) {
	sy := os.Getenv("SWITCHYARD_BIN")
	if sy == "" {
		t.Fatal("SWITCHYARD_BIN is not set: run through `make test`, or: make build && SWITCHYARD_BIN=$PWD/bin/switchyard go test -run TestTwoNodesSmoke ./bench/")
	}
	nats := findNatsServer(filepath.Dir(sy))
	if nats == "" {
		t.Fatalf("nats-server not found next to %s or in PATH: make bench-tools (GOBIN=$PWD/bin go install github.com/nats-io/nats-server/v2@%s)", sy, natsServerVersion)
	}
	peer := filepath.Join(t.TempDir(), "peer")
	build := exec.Command("go", "build", "-o", peer, "./cmd/peer")
	build.Dir = "peers"
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the peer: %v\n%s", err, out)
	}
	bins := Bins{Switchyard: sy, Peer: peer, NatsServer: nats}
	const subs, msgs = 50, 20
	for _, tc := range []struct {
		server string
		rate   int // 0: closed loop
	}{
		{"switchyard", 0}, {"centrifuge", 0}, {"switchyard", 200}, {"centrifuge", 200},
	} {
		server := tc.server
		t.Run(fmt.Sprintf("%s/rate=%d", server, tc.rate), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			p := TwoNodeParams{Subs: subs, Size: 64, Window: 4, Rate: tc.rate, Messages: msgs, Loops: 1}
			m, rc, err := runTwoNodeProcs(ctx, p, server, bins, nil)
			if err != nil {
				t.Fatal(err)
			}
			if m.Conns != subs || rc.Published != msgs || rc.Delivered != subs*msgs || rc.Lost != 0 || rc.Duplicated != 0 || rc.Stale != 0 {
				t.Fatalf("conns %d, counts %+v, want %d conns, %d published, %d delivered, none lost or duplicated",
					m.Conns, rc, subs, msgs, subs*msgs)
			}
			if m.Errors != 0 || m.Ops == 0 || m.Latency.N < m.Ops || m.Latency.P99 < m.Latency.P50 {
				t.Fatalf("errors %d (%s), %d deliveries measured, latency %+v", m.Errors, m.ErrorSample, m.Ops, m.Latency)
			}
			t.Logf("%s: %d deliveries measured, p50 %.0fµs p99 %.0fµs; %s", server, m.Ops, m.Latency.P50, m.Latency.P99, m.Note)
		})
	}
}

func TestSelectTwoNodes(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  map[string]int // scenario name → subscribers
	}{
		{[]string{KindBroadcast2Nodes}, map[string]int{KindBroadcast2Nodes: 10000, twoNodePacedName: 10000}},
		{[]string{KindBroadcast2Nodes + "-c500"}, map[string]int{KindBroadcast2Nodes + "-c500": 500}},
		{[]string{twoNodePacedName + "-c2000"}, map[string]int{twoNodePacedName + "-c2000": 2000}},
		{[]string{KindBroadcast2Nodes + "-c1", KindBroadcast2Nodes + "-cx"}, map[string]int{}},
	} {
		got := map[string]int{}
		for _, sc := range Select(DefaultSuite(), tc.names) {
			if sc.Nodes == nil || sc.Kind != KindBroadcast2Nodes {
				t.Fatalf("%v: selected %s", tc.names, sc.Name)
			}
			got[sc.Name] = sc.Nodes.Subs
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%v: selected %v, want %v", tc.names, got, tc.want)
		}
	}
	// Sizing a copy leaves the suite's own scenario alone.
	suite := DefaultSuite()
	Select(suite, []string{KindBroadcast2Nodes + "-c500"})
	for _, sc := range suite {
		if sc.Nodes != nil && sc.Nodes.Subs != 10000 {
			t.Fatalf("%s: %d subscribers after sizing a copy", sc.Name, sc.Nodes.Subs)
		}
	}
}
