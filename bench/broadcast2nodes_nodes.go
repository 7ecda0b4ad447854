package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// twoNodeServers take part in ws-broadcast-2nodes: switchyard's `serve -nats` and
// centrifuge on its NATS broker (the peer "centrifuge").
var twoNodeServers = []string{"switchyard", "centrifuge"}

// twoNodeSuite is issue 18's multi-node broadcast, 10,000 subscribers over two nodes,
// one round (a run takes 10-20 s on two cores, most of it connecting and joining the
// clients): as fast as the publisher's window lets it (deliveries/s), then at a fixed
// 5 broadcasts/s (50,000 deliveries/s), a load centrifuge also sustains on the
// development VM (7-13 broadcasts/s closed loop), so that latency and CPU per delivery
// are compared at the same load.
func twoNodeSuite() []Scenario {
	base := TwoNodeParams{Subs: 10000, Size: 64, Window: 8, Duration: 3 * time.Second, Warmup: 500 * time.Millisecond}
	paced := base
	paced.Rate, paced.Duration = 5, 4*time.Second
	return []Scenario{
		{Name: KindBroadcast2Nodes, Kind: KindBroadcast2Nodes, Servers: twoNodeServers, Rounds: 1, Nodes: &base},
		{Name: twoNodePacedName, Kind: KindBroadcast2Nodes, Servers: twoNodeServers, Rounds: 1, Nodes: &paced},
	}
}

// twoNodePacedName is the fixed-rate two-node scenario.
const twoNodePacedName = KindBroadcast2Nodes + "-paced"

// twoNodeTimeout bounds one two-node run: connecting and subscribing 10,000 clients to
// centrifuge takes longer than runTimeout's budget leaves for the measurement.
const twoNodeTimeout = 2 * time.Minute

// measureTwoNodes is measure for ws-broadcast-2nodes: a nats-server on a free port, two
// nodes of the server under test joined through it, then RunTwoNodes.
func measureTwoNodes(ctx context.Context, sc Scenario, name string, bins Bins, live *Live) (Metrics, error) {
	m, _, err := runTwoNodeProcs(ctx, *sc.Nodes, name, bins, live)
	return m, err
}

// runTwoNodeProcs starts nats-server and two nodes of server name, runs RunTwoNodes
// against them and stops them.
func runTwoNodeProcs(ctx context.Context, p TwoNodeParams, name string, bins Bins, live *Live) (Metrics, RoomCounts, error) {
	if bins.NatsServer == "" {
		return Metrics{}, RoomCounts{}, fmt.Errorf("nats-server not found next to %s or in PATH (make bench-tools, or GOBIN=$PWD/bin go install github.com/nats-io/nats-server/v2@%s)",
			bins.Switchyard, natsServerVersion)
	}
	natsAddr, err := freeAddr()
	if err != nil {
		return Metrics{}, RoomCounts{}, err
	}
	host, port, _ := net.SplitHostPort(natsAddr)
	nats, err := startServer([]string{bins.NatsServer, "-a", host, "-p", port}, natsAddr)
	if err != nil {
		return Metrics{}, RoomCounts{}, fmt.Errorf("nats-server: %w", err)
	}
	defer nats.stop()
	dir, err := os.MkdirTemp("", "switchyard-2nodes")
	if err != nil {
		return Metrics{}, RoomCounts{}, err
	}
	defer os.RemoveAll(dir)
	var (
		nodes [2]roomNode
		procs [2]*proc
		proto roomProto
	)
	for i := range nodes {
		addr, err := freeAddr()
		if err != nil {
			return Metrics{}, RoomCounts{}, err
		}
		var argv []string
		argv, proto, err = bins.roomNodeCmd(name, addr, "nats://"+natsAddr, dir)
		if err != nil {
			return Metrics{}, RoomCounts{}, err
		}
		p, err := startServer(argv, addr)
		if err != nil {
			return Metrics{}, RoomCounts{}, fmt.Errorf("node %d: %w", i+1, err)
		}
		defer p.stop()
		procs[i], nodes[i] = p, roomNode{addr: addr, pid: p.Pid()}
	}
	ctx, cancel := context.WithTimeout(ctx, twoNodeTimeout)
	defer cancel()
	m, rc, err := RunTwoNodes(ctx, proto, nodes, nats.Pid(), p, sourceAddrs(2, 8), live)
	for i, p := range append(procs[:], nats) {
		if err == nil && !p.alive() {
			err = fmt.Errorf("process %d (%s) exited during the run: %s", i+1, filepath.Base(p.cmd.Path), lastLines(p.out.Bytes(), 3))
		}
	}
	return m, rc, err
}

// natsServerVersion is the nats-server the Makefile installs into bin/.
const natsServerVersion = "v2.15.3"

// roomNodeCmd is the command line of one node of server name for ws-broadcast-2nodes,
// listening on addr and joined to the others through the NATS server at natsURL, and the
// protocol the harness speaks to it. dir holds switchyard's config file.
func (b Bins) roomNodeCmd(name, addr, natsURL, dir string) ([]string, roomProto, error) {
	server, flags := variantOf(name)
	switch server {
	case "switchyard":
		cfg := filepath.Join(dir, "room.json")
		if err := os.WriteFile(cfg, []byte(switchyardRoomConfig), 0o644); err != nil {
			return nil, roomProto{}, err
		}
		argv := []string{b.Switchyard, "serve", "-addr", addr, "-log-level", "error", "-config", cfg, "-nats", natsURL}
		return append(argv, flags...), switchyardRoom, nil
	case "centrifuge":
		if len(flags) > 0 {
			return nil, roomProto{}, fmt.Errorf("%s: only switchyard takes a variant's flags", name)
		}
		if b.Peer == "" {
			return nil, roomProto{}, fmt.Errorf("peer binary not found (build bench/peers/cmd/peer)")
		}
		return []string{b.Peer, "-server", "centrifuge", "-addr", addr, "-nats", natsURL}, centrifugeRoom, nil
	}
	return nil, roomProto{}, fmt.Errorf("%s has no two-node broadcast (servers: %v)", name, twoNodeServers)
}

// switchyardRoomConfig is the switchyard nodes' `serve -config`: GET / (the harness's
// readiness check dials only, but a node should answer something) and the broadcast
// route, with serve's defaults for a broadcast route otherwise.
const switchyardRoomConfig = `{"routes": [
  {"path": "/", "kind": "text", "text": "switchyard node: broadcast room at ` + roomPath + `\n"},
  {"path": "` + roomPath + `", "kind": "broadcast"}
]}
`

// twoNodesSized turns a scenario name NAME-cN, NAME one of the suite's two-node
// scenarios, into that scenario with N subscribers: `-scenarios ws-broadcast-2nodes-c50000`
// is how the subscriber count is changed from the command line.
func twoNodesSized(suite []Scenario, name string) (Scenario, bool) {
	for _, sc := range suite {
		n, ok := strings.CutPrefix(name, sc.Name+"-c")
		subs, err := strconv.Atoi(n)
		if sc.Nodes != nil && ok && err == nil && subs >= 2 {
			p := *sc.Nodes
			p.Subs = subs
			sc.Name, sc.Nodes = name, &p
			return sc, true
		}
	}
	return Scenario{}, false
}

// describeTwoNodes is the report's description of a ws-broadcast-2nodes scenario.
func describeTwoNodes(sc Scenario) string {
	p := sc.Nodes
	how := fmt.Sprintf("keeps at most %d broadcasts not yet received by every subscriber (closed loop: as fast as the slower node allows)", p.Window)
	if p.Rate > 0 {
		how = fmt.Sprintf("publishes %d broadcasts/s on a fixed schedule (%d deliveries/s; at most %d in flight, a send that finds them all in flight waits)",
			p.Rate, p.Rate*p.Subs, p.Window)
	}
	return fmt.Sprintf("Two nodes of each server joined by one nats-server (%s, started per run on a free port): switchyard is two `serve -nats` processes "+
		"with a broadcast route, centrifuge two processes of the peer on a NATS broker of ours (bench/peers/natsbroker; centrifuge ships memory and Redis brokers only). %d subscribers, split evenly over the nodes; one publisher "+
		"on node 1 %s, %d-byte JSON text messages, "+
		"%s measured after %s warm-up. Rate is deliveries (a message received by one subscriber) per second; latency is from the publisher's clock stamped in the message "+
		"to the subscriber's read (one process, one clock). srv µs/op is both nodes' CPU per delivery (their threads' schedstat); the note gives each node's CPU per delivery it made, "+
		"nats-server's CPU, and lost and duplicated messages (every message is numbered; errors counts them). One round. Servers: %s.",
		natsServerVersion, p.Subs, how, p.Size, p.Duration, p.Warmup, strings.Join(sc.Servers, ", "))
}

// findNatsServer looks for nats-server in dir (bin/, where the Makefile installs it),
// then in PATH; "" when there is none.
func findNatsServer(dir string) string {
	if p := filepath.Join(dir, "nats-server"); fileExists(p) {
		return p
	}
	p, _ := exec.LookPath("nats-server")
	return p
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// twoNodeBar is issue 18's bar: switchyard's two nodes deliver at least as many messages
// per second as centrifuge's, with a p99 fan-out latency no higher, and lose none.
func twoNodeBar(sy *Summary, peers []*Summary) (string, bool) {
	for _, p := range peers {
		if p.Server == "centrifuge" {
			x := ratio(sy.Rate, p.Rate)
			return fmt.Sprintf("%.0f/s vs centrifuge %.0f/s = %.2f×; p99 %s µs vs %s µs; errors %d vs %d", sy.Rate, p.Rate, x,
					us(sy.P99), us(p.P99), sy.Errors, p.Errors),
				x >= 1 && sy.P99 <= p.P99 && sy.Errors == 0
		}
	}
	return "centrifuge not measured", false
}

// twoNodePacedBar is the same bar at a fixed rate: the deliveries/s are the schedule's,
// so it compares p99 and CPU per delivery at equal load.
func twoNodePacedBar(sy *Summary, peers []*Summary) (string, bool) {
	for _, p := range peers {
		if p.Server == "centrifuge" {
			return fmt.Sprintf("p99 %s µs vs centrifuge %s µs; %.2f vs %.2f µs CPU/delivery; errors %d vs %d",
					us(sy.P99), us(p.P99), sy.ServerUsPer, p.ServerUsPer, sy.Errors, p.Errors),
				sy.P99 <= p.P99 && sy.Errors == 0
		}
	}
	return "centrifuge not measured", false
}
