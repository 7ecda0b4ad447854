package natstopics

import (
	"encoding/binary"

	"github.com/switchyard-dev/switchyard/server/websocket"
)

// A message on NATS is header + payload. The header is fixed-size binary, read without
// allocating:
//
//	[0]     headerMagic (format version)
//	[1]     WebSocket opcode: 1 text, 2 binary
//	[2:10]  publishing node's id, big-endian
//	[10:18] the node's sequence number for the topic, from 1, big-endian
//
// The sender's connection is not carried: it is on the publishing node, which delivered
// the message to its own members already (with Except applied) and is not sent its own
// messages back (nats.NoEcho), so no other node can hold the sender.
const (
	headerMagic = 0x59
	headerLen   = 18
)

type header struct {
	op   websocket.OpCode
	node uint64
	seq  uint64
}

// putHeader writes h into b[:headerLen].
func putHeader(b []byte, h header) {
	b[0], b[1] = headerMagic, byte(h.op)
	binary.BigEndian.PutUint64(b[2:10], h.node)
	binary.BigEndian.PutUint64(b[10:18], h.seq)
}

// parseHeader splits a NATS message into its header and payload (a view of data); ok is
// false for anything this format did not write.
func parseHeader(data []byte) (h header, payload []byte, ok bool) {
	if len(data) < headerLen || data[0] != headerMagic {
		return header{}, nil, false
	}
	h.op = websocket.OpCode(data[1])
	if h.op != websocket.OpText && h.op != websocket.OpBinary {
		return header{}, nil, false
	}
	h.node = binary.BigEndian.Uint64(data[2:10])
	h.seq = binary.BigEndian.Uint64(data[10:18])
	if h.seq == 0 {
		return header{}, nil, false
	}
	return h, data[headerLen:], true
}
