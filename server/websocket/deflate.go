package websocket

import "github.com/switchyard-dev/switchyard/frame/ws"

// deflateState is a connection's permessage-deflate state. Its compressor and
// decompressor are taken when first needed; without context takeover they hold no
// memory between messages.
type deflateState struct {
	params ws.DeflateParams
	def    *ws.Deflater
	inf    *ws.Inflater
}

func (d *deflateState) inflater() *ws.Inflater {
	if d.inf == nil {
		d.inf = d.params.NewServerInflater()
	}
	return d.inf
}

func (d *deflateState) deflater() *ws.Deflater {
	if d.def == nil {
		d.def = d.params.NewServerDeflater()
	}
	return d.def
}

func (d *deflateState) release() {
	if d == nil {
		return
	}
	if d.def != nil {
		d.def.Release()
	}
	if d.inf != nil {
		d.inf.Release()
	}
}

// freshCompressionOK reports whether a message compressed on its own (no shared history)
// may be sent: not when the server keeps context, because such a message would enter the
// peer's window behind the back of the connection's compressor, nor with a window below
// 15 bits, which only the connection's compressor honours.
func (d *deflateState) freshCompressionOK() bool {
	return d != nil && d.params.ServerNoContextTakeover && d.params.ServerMaxWindowBits >= 15
}
