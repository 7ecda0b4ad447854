package ws

import (
	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

func httpheadParse(h []byte) ([]httphead.Option, bool) { return httphead.ParseOptions(h, nil) }

func wsflateExtension() *wsflate.Extension {
	return &wsflate.Extension{Parameters: wsflate.DefaultParameters}
}
