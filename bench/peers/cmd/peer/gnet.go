package main

import (
	"bytes"
	"io"
	"sync"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/panjf2000/gnet/v2"
)

// serveGnet is the WebSocket echo of gnet's own examples (gnet-examples/websocket): gnet
// v2 event loops and gobwas/ws codecs over a bytes.Buffer per connection. A toy: no
// limits, no UTF-8 checks, no compression; its logging is left out. /pub and /sub are
// added in the same style.
func serveGnet(addr string) error {
	s := &gnetWS{subs: map[gnet.Conn]struct{}{}}
	return gnet.Run(s, "tcp://"+addr, gnet.WithMulticore(true), gnet.WithReusePort(true))
}

type gnetWS struct {
	gnet.BuiltinEventEngine
	mu   sync.Mutex
	subs map[gnet.Conn]struct{}
}

type wsCodec struct {
	upgraded bool
	route    string
	buf      bytes.Buffer
	msg      wsMessageBuf
}

type wsMessageBuf struct {
	curHeader *ws.Header
	cachedBuf bytes.Buffer
}

type readWrite struct {
	io.Reader
	io.Writer
}

func (s *gnetWS) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	c.SetContext(new(wsCodec))
	return nil, gnet.None
}

func (s *gnetWS) OnClose(c gnet.Conn, _ error) gnet.Action {
	s.mu.Lock()
	delete(s.subs, c)
	s.mu.Unlock()
	return gnet.None
}

func (s *gnetWS) OnTraffic(c gnet.Conn) gnet.Action {
	w := c.Context().(*wsCodec)
	if w.readBufferBytes(c) == gnet.Close {
		return gnet.Close
	}
	ok, action := w.upgrade(c)
	if !ok {
		return action
	}
	if w.route == "/sub" {
		s.mu.Lock()
		s.subs[c] = struct{}{}
		s.mu.Unlock()
	}
	if w.buf.Len() <= 0 {
		return gnet.None
	}
	messages, err := w.decode(c)
	if err != nil {
		return gnet.Close
	}
	for _, m := range messages {
		switch w.route {
		case "/echo":
			if wsutil.WriteServerMessage(c, m.OpCode, m.Payload) != nil {
				return gnet.Close
			}
		case "/pub":
			f, err := ws.CompileFrame(ws.NewFrame(m.OpCode, true, m.Payload))
			if err != nil {
				return gnet.Close
			}
			s.mu.Lock()
			for sc := range s.subs {
				_ = sc.AsyncWrite(f, nil)
			}
			s.mu.Unlock()
		}
	}
	return gnet.None
}

func (w *wsCodec) readBufferBytes(c gnet.Conn) gnet.Action {
	size := c.InboundBuffered()
	buf := make([]byte, size)
	read, err := c.Read(buf)
	if err != nil || read < size {
		return gnet.Close
	}
	w.buf.Write(buf)
	return gnet.None
}

func (w *wsCodec) upgrade(c gnet.Conn) (ok bool, action gnet.Action) {
	if w.upgraded {
		return true, gnet.None
	}
	tmp := bytes.NewReader(w.buf.Bytes())
	oldLen := tmp.Len()
	u := ws.Upgrader{OnRequest: func(uri []byte) error { w.route = string(uri); return nil }}
	_, err := u.Upgrade(readWrite{tmp, c})
	skipN := oldLen - tmp.Len()
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF { // incomplete request: wait for more
			return false, gnet.None
		}
		w.buf.Next(skipN)
		return false, gnet.Close
	}
	w.buf.Next(skipN)
	w.upgraded = true
	return true, gnet.None
}

func (w *wsCodec) decode(c gnet.Conn) (outs []wsutil.Message, err error) {
	messages, err := w.readWsMessages()
	if err != nil {
		return nil, err
	}
	for _, m := range messages {
		if m.OpCode.IsControl() {
			if err = wsutil.HandleClientControlMessage(c, m); err != nil {
				return nil, err
			}
			continue
		}
		if m.OpCode == ws.OpText || m.OpCode == ws.OpBinary {
			outs = append(outs, m)
		}
	}
	return outs, nil
}

func (w *wsCodec) readWsMessages() (messages []wsutil.Message, err error) {
	msgBuf := &w.msg
	in := &w.buf
	for {
		if msgBuf.curHeader == nil {
			if in.Len() < ws.MinHeaderSize {
				return messages, nil
			}
			var head ws.Header
			if in.Len() >= ws.MaxHeaderSize {
				if head, err = ws.ReadHeader(in); err != nil {
					return messages, err
				}
			} else { // maybe incomplete: read from a copy, consume only on success
				tmp := bytes.NewReader(in.Bytes())
				oldLen := tmp.Len()
				head, err = ws.ReadHeader(tmp)
				skipN := oldLen - tmp.Len()
				if err != nil {
					if err == io.EOF || err == io.ErrUnexpectedEOF {
						return messages, nil
					}
					in.Next(skipN)
					return nil, err
				}
				in.Next(skipN)
			}
			msgBuf.curHeader = &head
			if err = ws.WriteHeader(&msgBuf.cachedBuf, head); err != nil {
				return nil, err
			}
		}
		dataLen := int(msgBuf.curHeader.Length)
		if dataLen > 0 {
			if in.Len() < dataLen {
				return messages, nil
			}
			if _, err = io.CopyN(&msgBuf.cachedBuf, in, int64(dataLen)); err != nil {
				return messages, err
			}
		}
		if msgBuf.curHeader.Fin {
			if messages, err = wsutil.ReadClientMessage(&msgBuf.cachedBuf, messages); err != nil {
				return nil, err
			}
			msgBuf.cachedBuf.Reset()
		}
		msgBuf.curHeader = nil
	}
}
