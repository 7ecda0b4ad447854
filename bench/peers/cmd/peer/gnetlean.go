package main

import (
	"bytes"
	"encoding/binary"
	"sync"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
)

// serveGnetLean is a WebSocket echo written the lean way on the same two libraries as the
// gnet toy (gnet v2 loops, gobwas/ws for the handshake and the unmasking): frames are
// parsed in place over gnet's inbound buffer (Peek/Discard, no copy into a bytes.Buffer,
// no per-message allocation) and the echoes one wake-up produces leave in one Write. The
// gnet toy is how gnet's examples do it; this is what a careful user of the same pieces
// gets, the fairer floor for an event-loop server's CPU per message, and the one issue 15's
// paced figures compare with. /echo only: no limits, no UTF-8 checks, no compression, and a
// fragmented message is echoed frame by frame.
func serveGnetLean(addr string) error {
	return gnet.Run(&gnetLean{}, "tcp://"+addr, gnet.WithMulticore(true), gnet.WithReusePort(true))
}

type gnetLean struct{ gnet.BuiltinEventEngine }

// leanConn is a connection's whole state: a flag (an idle connection holds no buffer).
type leanConn struct{ upgraded bool }

// echoOnly upgrades requests for /echo and answers others 404 (the lean echoes' one route).
var echoOnly = ws.Upgrader{OnRequest: func(uri []byte) error {
	if string(uri) != "/echo" {
		return ws.RejectConnectionError(ws.RejectionStatus(404))
	}
	return nil
}}

// maxLeanHead bounds an upgrade request; maxLeanFrame a frame's payload.
const maxLeanHead, maxLeanFrame = 8 << 10, 1 << 20

// leanOut holds one wake-up's echoes; pooled, since the loops share nothing else.
var leanOut = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func (s *gnetLean) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	c.SetContext(&leanConn{})
	return nil, gnet.None
}

func (s *gnetLean) OnTraffic(c gnet.Conn) gnet.Action {
	lc := c.Context().(*leanConn)
	if !lc.upgraded {
		in, _ := c.Peek(0)
		end := bytes.Index(in, []byte("\r\n\r\n"))
		if end < 0 {
			if len(in) > maxLeanHead {
				return gnet.Close
			}
			return gnet.None
		}
		if _, err := echoOnly.Upgrade(readWrite{bytes.NewReader(in[:end+4]), c}); err != nil {
			return gnet.Close
		}
		_, _ = c.Discard(end + 4)
		lc.upgraded = true
	}
	in, _ := c.Peek(0)
	outp := leanOut.Get().(*[]byte)
	out, used, action := leanEcho(in, (*outp)[:0])
	if len(out) > 0 {
		_, _ = c.Write(out)
	}
	if used > 0 { // Discard(0) would drop everything buffered, a partial frame included
		_, _ = c.Discard(used)
	}
	*outp = out
	leanOut.Put(outp)
	return action
}

// leanEcho answers the whole client frames at the head of in (RFC 6455 §5.2), appending
// to out: data frames come back unmasked with their opcode and FIN, pings as pongs, a
// close as a close (then the connection closes). It unmasks in place: the bytes are
// consumed anyway. used is how much of in it consumed.
func leanEcho(in, out []byte) (_ []byte, used int, action gnet.Action) {
	for {
		b := in[used:]
		if len(b) < 2 {
			return out, used, gnet.None
		}
		fin, op, n, h := b[0]&0x80 != 0, ws.OpCode(b[0]&0x0f), int(b[1]&0x7f), 2
		if b[1]&0x80 == 0 || b[0]&0x70 != 0 {
			return out, used, gnet.Close // unmasked client frame (§5.1) or reserved bits (§5.2)
		}
		switch n {
		case 126:
			if len(b) < 4 {
				return out, used, gnet.None
			}
			n, h = int(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return out, used, gnet.None
			}
			u := binary.BigEndian.Uint64(b[2:])
			if u > maxLeanFrame {
				return out, used, gnet.Close
			}
			n, h = int(u), 10
		}
		if len(b) < h+4+n {
			return out, used, gnet.None
		}
		var mask [4]byte
		copy(mask[:], b[h:h+4])
		payload := b[h+4 : h+4+n]
		ws.Cipher(payload, mask, 0)
		used += h + 4 + n
		switch op {
		case ws.OpPing:
			out = appendLeanFrame(out, true, ws.OpPong, payload)
		case ws.OpPong:
		case ws.OpClose:
			return appendLeanFrame(out, true, ws.OpClose, payload), used, gnet.Close
		default:
			out = appendLeanFrame(out, fin, op, payload)
		}
	}
}

// appendLeanFrame appends an unmasked server frame.
func appendLeanFrame(out []byte, fin bool, op ws.OpCode, payload []byte) []byte {
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, b0, byte(n))
	case n <= 0xffff:
		out = append(out, b0, 126, byte(n>>8), byte(n))
	default:
		out = append(out, b0, 127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	return append(out, payload...)
}
