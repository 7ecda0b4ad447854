package parser

// Limits bounds what a peer can make the parser accept. A zero field means
// "use the default"; WithDefaults fills them in.
type Limits struct {
	MaxRequestLine   int   // bytes of the request-line without CRLF; beyond -> 414
	MaxHeaderBytes   int   // bytes of the head after the request-line, final CRLF included; beyond -> 431
	MaxHeaders       int   // field lines; beyond -> 431
	MaxBodyBytes     int64 // Content-Length or chunked data total; beyond -> 413
	MaxChunkExtBytes int   // bytes of one chunk-size line after the size (extensions); beyond -> 400
	MaxTrailerBytes  int   // bytes of the trailer section, final CRLF included; beyond -> 431
	AllowBareLF      bool  // accept a bare LF as line terminator (RFC 9112 §2.2 MAY); default rejects with 400
}

// Default limits.
const (
	DefaultMaxRequestLine   = 8 << 10
	DefaultMaxHeaderBytes   = 16 << 10
	DefaultMaxHeaders       = 100
	DefaultMaxBodyBytes     = 4 << 20
	DefaultMaxChunkExtBytes = 4 << 10
	DefaultMaxTrailerBytes  = 16 << 10
)

// DefaultLimits returns the limits used when none are configured.
func DefaultLimits() Limits {
	return Limits{}.WithDefaults()
}

// WithDefaults returns l with every zero (or negative) limit replaced by its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxRequestLine <= 0 {
		l.MaxRequestLine = DefaultMaxRequestLine
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxChunkExtBytes <= 0 {
		l.MaxChunkExtBytes = DefaultMaxChunkExtBytes
	}
	if l.MaxTrailerBytes <= 0 {
		l.MaxTrailerBytes = DefaultMaxTrailerBytes
	}
	return l
}

// Accessors with the defaults applied, so the hot path reads the one limit it
// needs instead of copying the struct through WithDefaults on every call.

func (l *Limits) maxRequestLine() int {
	if l.MaxRequestLine > 0 {
		return l.MaxRequestLine
	}
	return DefaultMaxRequestLine
}

func (l *Limits) maxHeaderBytes() int {
	if l.MaxHeaderBytes > 0 {
		return l.MaxHeaderBytes
	}
	return DefaultMaxHeaderBytes
}

func (l *Limits) maxHeaders() int {
	if l.MaxHeaders > 0 {
		return l.MaxHeaders
	}
	return DefaultMaxHeaders
}

func (l *Limits) maxBodyBytes() int64 {
	if l.MaxBodyBytes > 0 {
		return l.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

func (l *Limits) maxChunkExtBytes() int {
	if l.MaxChunkExtBytes > 0 {
		return l.MaxChunkExtBytes
	}
	return DefaultMaxChunkExtBytes
}

func (l *Limits) maxTrailerBytes() int {
	if l.MaxTrailerBytes > 0 {
		return l.MaxTrailerBytes
	}
	return DefaultMaxTrailerBytes
}
