package bench

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/gobwas/ws"
)

// roomProto is how the harness speaks to one kind of two-node broadcast server: where a
// client connects, what it sends to join the room, how the publisher sends a message to
// it, and how a received WebSocket message yields the room's publications.
type roomProto struct {
	path string
	// join is sent once on every connection after the upgrade (nil: being connected is
	// being a member).
	join []byte
	// joinAcks is how many replies to join a member awaits (0: none).
	joinAcks int
	// publish frames payload, the publisher's id-th message, for the server.
	publish func(payload []byte, id uint64) ([]byte, error)
	// receive calls pub for each publication in msg (a view, valid during the call),
	// counts replies to join in *acked and may append frames to out (answers to pings).
	receive func(msg []byte, out *[]byte, acked *int, pub func(payload []byte)) error
}

// roomPath is the broadcast route of the switchyard nodes (see switchyardRoomConfig).
const roomPath = "/room"

// switchyardRoom: `switchyard serve` with a broadcast route. Every WebSocket message a
// member sends is sent, unchanged, to every member of the room on every node, the
// sender included.
var switchyardRoom = roomProto{
	path: roomPath,
	publish: func(payload []byte, _ uint64) ([]byte, error) {
		return clientFrame(ws.OpText, payload, false)
	},
	receive: func(msg []byte, _ *[]byte, _ *int, pub func([]byte)) error {
		pub(msg)
		return nil
	},
}

// centrifugeChannel is the channel every client of the centrifuge nodes subscribes to.
const centrifugeChannel = "bench"

// centrifugeRoom speaks centrifuge's client protocol (v2, JSON over WebSocket): a connect
// command and a subscribe command sent together in one frame (newline-delimited, which
// the protocol allows), the publisher's messages as publish commands into the channel,
// publications pushed as {"push":{"channel":…,"pub":{"data":…}}}, several to a frame,
// newline-delimited. An empty object is the server's ping and gets an empty object back.
var centrifugeRoom = roomProto{
	path: "/connection/websocket",
	join: mustClientFrame(ws.OpText, []byte(`{"id":1,"connect":{}}`+"\n"+
		`{"id":2,"subscribe":{"channel":"`+centrifugeChannel+`"}}`)),
	joinAcks: 1,
	publish: func(payload []byte, id uint64) ([]byte, error) {
		cmd := make([]byte, 0, len(payload)+64)
		cmd = append(cmd, `{"id":`...)
		cmd = strconv.AppendUint(cmd, id+3, 10) // 1 and 2 are connect and subscribe
		cmd = append(cmd, `,"publish":{"channel":"`+centrifugeChannel+`","data":`...)
		cmd = append(cmd, payload...)
		cmd = append(cmd, "}}"...)
		return clientFrame(ws.OpText, cmd, false)
	},
	receive: centrifugeReceive,
}

var centrifugePong = mustClientFrame(ws.OpText, []byte("{}"))

func mustClientFrame(op ws.OpCode, payload []byte) []byte {
	f, err := clientFrame(op, payload, false)
	if err != nil {
		panic(err)
	}
	return f
}

var (
	centrifugePush  = []byte(`{"push":`)
	centrifugePubOf = []byte(`"pub":{"data":`)
	centrifugeError = []byte(`"error":`)
	subscribeReply  = []byte(`{"id":2,"subscribe":`)
)

// centrifugeReceive parses one WebSocket message from a centrifuge node: replies and
// pushes, one JSON object a line.
func centrifugeReceive(msg []byte, out *[]byte, acked *int, pub func([]byte)) error {
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i], msg[i+1:]
		} else {
			msg = nil
		}
		line = bytes.TrimSpace(line)
		switch {
		case len(line) == 0:
		case string(line) == "{}":
			*out = append(*out, centrifugePong...)
		case bytes.HasPrefix(line, centrifugePush):
			i := bytes.Index(line, centrifugePubOf)
			if i < 0 {
				continue // a join, leave or other push: not a publication
			}
			pub(line[i+len(centrifugePubOf):])
		case bytes.Contains(line, centrifugeError):
			return fmt.Errorf("centrifuge: %.200s", line)
		case bytes.HasPrefix(line, subscribeReply):
			*acked++
		}
	}
	return nil
}

// A broadcast's payload is JSON text, so that centrifuge's JSON protocol carries it as
// it is and switchyard relays the same bytes: {"s":"SEQ","t":"SENT","p":"…"} with the
// sequence number in 10 and the publisher's clock (ns) in 16 zero-padded digits,
// strings because JSON numbers may not start with a zero, then padding to the size.
const (
	stampSeqDigits  = 10
	stampTimeDigits = 16
	stampHead       = `{"s":"`
	stampMid        = `","t":"`
	stampTail       = `","p":"`
	// minStampSize is the smallest payload: no padding.
	minStampSize = len(stampHead) + stampSeqDigits + len(stampMid) + stampTimeDigits + len(stampTail) + len(`"}`)
)

var (
	stampSeqKey  = []byte(`"s":"`)
	stampTimeKey = []byte(`"t":"`)
)

// newStampPayload makes a payload of size bytes (at least minStampSize) with its
// padding in place; stamp fills in the numbers.
func newStampPayload(size int) []byte {
	size = max(size, minStampSize)
	p := make([]byte, 0, size)
	p = append(p, stampHead...)
	p = append(p, bytes.Repeat([]byte{'0'}, stampSeqDigits)...)
	p = append(p, stampMid...)
	p = append(p, bytes.Repeat([]byte{'0'}, stampTimeDigits)...)
	p = append(p, stampTail...)
	for len(p) < size-2 {
		p = append(p, 'x')
	}
	return append(p, `"}`...)
}

// stamp writes seq and sent into a payload made by newStampPayload.
func stamp(p []byte, seq uint64, sent int64) {
	i := len(stampHead)
	putDigits(p[i:i+stampSeqDigits], uint64(seq))
	i += stampSeqDigits + len(stampMid)
	putDigits(p[i:i+stampTimeDigits], uint64(max(sent, 0)))
}

// putDigits writes v in decimal, zero-padded, into all of b (the low digits if v is
// wider).
func putDigits(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

var errNoStamp = errors.New("broadcast: message without a sequence number and time stamp")

// parseStamp reads the sequence number and send time from a payload, wherever in b its
// keys are (a centrifuge push carries it inside its own JSON). It allocates nothing.
func parseStamp(b []byte) (seq uint64, sent int64, err error) {
	s, ok1 := digitsAfter(b, stampSeqKey, stampSeqDigits)
	t, ok2 := digitsAfter(b, stampTimeKey, stampTimeDigits)
	if !ok1 || !ok2 {
		return 0, 0, errNoStamp
	}
	return s, int64(t), nil
}

func digitsAfter(b, key []byte, n int) (uint64, bool) {
	i := bytes.Index(b, key)
	if i < 0 || len(b)-i-len(key) < n {
		return 0, false
	}
	var v uint64
	for _, c := range b[i+len(key) : i+len(key)+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// seqWindow is what one subscriber has received: the highest sequence number and which
// of the 64 below it came, enough to tell a duplicate from a late message when a server
// delivers in order or nearly so.
type seqWindow struct {
	hi   uint64 // highest sequence number seen + 1 (0: none yet)
	seen uint64 // bit i: hi-1-i was received
}

// seqVerdict is what a delivery was.
type seqVerdict int

const (
	seqNew   seqVerdict = iota // first time this sequence number arrived
	seqDup                     // arrived before
	seqStale                   // more than 64 behind the newest: cannot tell, counted apart
)

// add records the delivery of seq.
func (w *seqWindow) add(seq uint64) seqVerdict {
	if seq >= w.hi {
		shift := seq + 1 - w.hi
		if shift >= 64 {
			w.seen = 0
		} else {
			w.seen <<= shift
		}
		w.seen |= 1
		w.hi = seq + 1
		return seqNew
	}
	d := w.hi - 1 - seq
	if d >= 64 {
		return seqStale
	}
	if w.seen&(1<<d) != 0 {
		return seqDup
	}
	w.seen |= 1 << d
	return seqNew
}
