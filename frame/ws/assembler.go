package ws

import (
	"unicode/utf8"

	"github.com/valyala/bytebufferpool"
)

// DefaultMaxMessageSize is the message size limit when none is configured.
const DefaultMaxMessageSize = 16 << 20

// Message is a complete message handed out by an Assembler, or a control
// frame passed through it.
//
// Payload is a view: into the caller's input for a message that arrived as a
// single frame, or into the Assembler's pooled buffer for a fragmented or
// inflated one. It is valid until the caller discards that input or calls
// any Assembler method again, whichever comes first.
type Message struct {
	Op OpCode // OpText or OpBinary, or the opcode of a control frame
	// Compressed reports that RSV1 was set on the message's first frame
	// (RFC 7692 §6): Payload is deflate data and Assembler.Inflate turns it
	// into the message. Text of a compressed message is validated then.
	Compressed bool
	Payload    []byte
}

// Assembler is the per-connection state machine for data frames (RFC 6455
// §5.4 fragmentation, §5.6 data frames, §8.1 UTF-8; RFC 7692 §6 RSV1). It
// checks each frame against the message in progress, enforces the size limit,
// validates text incrementally and joins fragments.
//
// Memory: a message that arrives as one frame is delivered as a view of the
// input, without copying. Fragments are appended to a buffer taken from
// bytebufferpool when the first fragment arrives; the buffer goes back to the
// pool on the next method call after the message was delivered, or at once on
// Release. An idle connection's Assembler therefore holds no buffer if the
// caller calls Release after each delivered message.
//
// The zero value is ready: no compression, DefaultMaxMessageSize. An
// Assembler is not safe for concurrent use; it belongs to its connection's
// event loop.
type Assembler struct {
	// MaxMessageSize limits a message's payload, summed over its fragments
	// (compressed size for compressed messages, and the inflated size too).
	// Exceeding it is 1009 (§7.4.1). Zero or less means DefaultMaxMessageSize.
	MaxMessageSize int
	// Compression reports that permessage-deflate was negotiated, which
	// allows RSV1 on the first frame of a data message (RFC 7692 §6).
	Compression bool
	// MaxInflateRatio, when positive, also limits a compressed message's
	// inflated size to this many times its compressed size (never below
	// MinInflateLimit): a few kilobytes of zeros cannot make a server that
	// echoes or relays handle megabytes. Exceeding it is 1009.
	MaxInflateRatio int

	op         OpCode // opcode of the fragmented message in progress; 0 if none
	compressed bool   // the message in progress had RSV1
	size       int64  // payload bytes of the message in progress so far
	text       UTF8State
	frag       *bytebufferpool.ByteBuffer // fragments of the message in progress
	fragDone   bool                       // frag holds a delivered message
	out        *bytebufferpool.ByteBuffer // output of the last Inflate
}

// MinInflateLimit is the inflated size MaxInflateRatio always allows.
const MinInflateLimit = 64 << 10

func (a *Assembler) limit() int64 {
	if a.MaxMessageSize <= 0 {
		return DefaultMaxMessageSize
	}
	return int64(a.MaxMessageSize)
}

// InProgress reports whether a fragmented message has started and not ended.
func (a *Assembler) InProgress() bool { return a.op != 0 }

// Check validates the header of the next frame against the message state
// before its payload has arrived, so the caller can fail the connection
// without buffering a payload it would reject: a continuation without a
// message (1002), a new message inside a fragmented one (1002), RSV1 where
// RFC 7692 §6 forbids it (1002), or a declared length that would take the
// message past MaxMessageSize (1009). It changes no state (except releasing
// the buffers of a message already delivered), so the caller still passes the
// frame to Frame once the payload is there.
//
// h is assumed to have passed DecodeHeader (known opcode, control frame rules).
func (a *Assembler) Check(h Header) *Error {
	a.Release()
	return a.check(h, h.Length)
}

func (a *Assembler) check(h Header, length int64) *Error {
	rsv1 := h.Rsv&RSV1 != 0
	switch {
	case h.OpCode.IsControl():
		// RFC 7692 §6.1: never on control frames.
		if rsv1 {
			return ErrCompressedBit
		}
		return nil
	case h.OpCode == OpContinuation:
		if a.op == 0 {
			return ErrUnexpectedContinuation
		}
		// RFC 7692 §6.1: only the first frame of a message carries RSV1.
		if rsv1 {
			return ErrCompressedBit
		}
	default:
		if a.op != 0 {
			return ErrExpectedContinuation
		}
		if rsv1 && !a.Compression {
			return ErrCompressedBit
		}
	}
	if length > a.limit()-a.size {
		return ErrMessageTooBig
	}
	return nil
}

// Frame takes the next frame of the connection: its decoded header and its
// whole, already unmasked payload. It returns complete=true with msg when the
// frame ends a message, or when it is a control frame, which is passed
// through untouched (control frames may arrive between the fragments of a
// message, §5.4; answering them is the caller's job). For a message that is
// still incomplete it returns complete=false.
//
// After an error the connection must be failed with err.Code; the Assembler
// has released its buffers and is back at its initial state.
func (a *Assembler) Frame(h Header, payload []byte) (msg Message, complete bool, err *Error) {
	a.Release()
	if err = a.check(h, int64(len(payload))); err != nil {
		a.Reset()
		return msg, false, err
	}
	if h.OpCode.IsControl() {
		return Message{Op: h.OpCode, Payload: payload}, true, nil
	}
	if h.OpCode != OpContinuation {
		compressed := h.Rsv&RSV1 != 0
		if h.Fin {
			// A whole message in one frame, the common case: no copy.
			if h.OpCode == OpText && !compressed && !utf8.Valid(payload) {
				return msg, false, ErrInvalidUTF8
			}
			return Message{Op: h.OpCode, Compressed: compressed, Payload: payload}, true, nil
		}
		a.op, a.compressed, a.size = h.OpCode, compressed, 0
		a.text.Reset()
		a.frag = bytebufferpool.Get()
		a.frag.B = a.frag.B[:0]
	}
	a.size += int64(len(payload))
	if a.op == OpText && !a.compressed && !a.text.Feed(payload) {
		a.Reset()
		return msg, false, ErrInvalidUTF8
	}
	a.frag.B = append(a.frag.B, payload...)
	if !h.Fin {
		return msg, false, nil
	}
	if a.op == OpText && !a.compressed && !a.text.Complete() {
		a.Reset()
		return msg, false, ErrInvalidUTF8
	}
	msg = Message{Op: a.op, Compressed: a.compressed, Payload: a.frag.B}
	a.op, a.compressed, a.size = 0, false, 0
	a.fragDone = true
	return msg, true, nil
}

// Inflate decompresses a complete compressed message with the connection's
// Inflater into a pooled buffer, enforcing MaxMessageSize on the output
// (1009) and validating text on the inflated bytes (1007). A message that is
// not compressed is returned as is. The result is valid until the next
// Assembler call.
//
// Callers with their own streaming decompressor can validate text the same
// way by feeding the inflated pieces to a UTF8State.
func (a *Assembler) Inflate(msg Message, inf *Inflater) (Message, *Error) {
	if !msg.Compressed {
		return msg, nil
	}
	if a.out == nil {
		a.out = bytebufferpool.Get()
	}
	limit := int(a.limit())
	if a.MaxInflateRatio > 0 {
		limit = min(limit, max(MinInflateLimit, len(msg.Payload)*a.MaxInflateRatio))
	}
	out, err := inf.Inflate(a.out.B[:0], msg.Payload, limit)
	a.out.B = out
	if err == nil && msg.Op == OpText && !utf8.Valid(out) {
		err = ErrInvalidUTF8
	}
	if err != nil {
		a.Reset()
		return Message{}, err
	}
	return Message{Op: msg.Op, Payload: out}, nil
}

// Release returns the buffers of delivered messages to the pool. Every other
// method calls it first; the caller calls it after handling a message so an
// idle connection holds no buffer. A message in progress is kept.
func (a *Assembler) Release() {
	if a.fragDone {
		bytebufferpool.Put(a.frag)
		a.frag, a.fragDone = nil, false
	}
	if a.out != nil {
		bytebufferpool.Put(a.out)
		a.out = nil
	}
}

// Reset drops any message in progress and releases all buffers, e.g. when
// the connection closes.
func (a *Assembler) Reset() {
	if a.frag != nil {
		bytebufferpool.Put(a.frag)
	}
	if a.out != nil {
		bytebufferpool.Put(a.out)
	}
	*a = Assembler{Compression: a.Compression, MaxMessageSize: a.MaxMessageSize, MaxInflateRatio: a.MaxInflateRatio}
}
