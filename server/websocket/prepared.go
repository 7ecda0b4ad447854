package websocket

import "github.com/switchyard-dev/switchyard/frame/ws"

// PreparedMessage is a message framed (and compressed) once, to be sent to many
// connections without framing it again (Hub.Broadcast, topics.Publish).
type PreparedMessage struct {
	size       int // payload bytes
	plain      []byte
	compressed []byte // nil when compression would not pay
}

// PrepareOption tunes NewPreparedMessage.
type PrepareOption func(*prepareConfig)

type prepareConfig struct{ level, threshold int }

// CompressionLevel sets the deflate level of the compressed form: compress/flate's
// BestSpeed (1, the default) to BestCompression (9), or HuffmanOnly; other values mean
// BestSpeed.
func CompressionLevel(level int) PrepareOption {
	return func(c *prepareConfig) { c.level = level }
}

// CompressAbove sets the payload size from which a compressed form is made for
// connections that negotiated permessage-deflate (default 256 bytes).
func CompressAbove(n int) PrepareOption {
	return func(c *prepareConfig) { c.threshold = n }
}

// NewPreparedMessage frames data as one message of type op. data is copied.
func NewPreparedMessage(op OpCode, data []byte, opts ...PrepareOption) *PreparedMessage {
	cfg := prepareConfig{threshold: 256}
	for _, o := range opts {
		o(&cfg)
	}
	pm := &PreparedMessage{size: len(data), plain: ws.AppendFrame(nil, true, ws.OpCode(op), false, data)}
	if len(data) >= cfg.threshold {
		d := ws.NewDeflater(cfg.level, 15, false)
		pm.compressed = ws.AppendFrame(nil, true, ws.OpCode(op), true, d.Compress(nil, data))
		d.Release()
	}
	return pm
}

// frameFor is the form of pm that w can take.
func (pm *PreparedMessage) frameFor(w *Conn) []byte {
	if pm.compressed != nil && w.deflate.freshCompressionOK() {
		return pm.compressed
	}
	return pm.plain
}

// writePrepared queues msgs for w within the send budget and ends w's turn: broadcasts
// that piled up while the loop was busy leave in one write. Loop only.
func (w *Conn) writePrepared(msgs []*PreparedMessage) {
	c := w.c
	flushed := false
	for _, pm := range msgs {
		if w.state >= stateCloseSent || c.Closing() {
			break
		}
		frame := pm.frameFor(w)
		if w.overBudget(len(frame)) {
			// The budget counts what the socket has not taken: hand it what is queued
			// first, once per delivery (a member that still does not take it will not
			// within the same turn, and a write attempt per message would make a flood
			// cost the loop a system call per message and member).
			if !flushed {
				flushed = true
				if c.Flush(); c.Closing() {
					return
				}
			}
			if w.overBudget(len(frame)) {
				_ = w.overflow()
				if w.rt.Overflow != DropMessages {
					break
				}
				continue
			}
		}
		c.WriteRef(frame) // pm's frames do not change; the socket copies what it does not take
		w.countOut(pm.size)
	}
	c.Flush()
	// WriteAsync checks the budget against this, from other goroutines: a member that
	// only listens has no Serve to bring it up to date.
	w.backlog.Store(int32(c.Unsent()))
}
