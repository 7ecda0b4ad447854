package parser

// ChunkedDecoder decodes a chunked request body (RFC 9112 §7.1) as it
// arrives, without copying: framing is consumed byte by byte into a small
// state, chunk data is handed back as views of the input. The zero value is
// ready to use; call Reset before each new body.
//
// Chunk extensions are checked against their grammar (§7.1.1) and dropped;
// trailer fields are checked like header fields (§7.1.2) and dropped.
type ChunkedDecoder struct {
	// Limits bounds the body; nil means DefaultLimits. MaxBodyBytes,
	// MaxChunkExtBytes, MaxTrailerBytes and AllowBareLF apply.
	Limits *Limits

	st      chunkState
	digits  int   // hex digits of the current chunk-size
	size    int64 // current chunk-size, then bytes of it still to hand out
	total   int64 // chunk data bytes announced so far
	extLen  int   // bytes after the chunk-size on the current size line
	extWS   bool  // BWS seen that must be followed by ';'
	trailer int   // bytes of the trailer section so far
	err     error // sticky
}

type chunkState uint8

const (
	csSize     chunkState = iota // chunk-size hex digits
	csExtSemi                    // after size or an extension: BWS, ';' or CRLF
	csExtName0                   // after ';': BWS, then a name
	csExtName                    // inside chunk-ext-name
	csExtEq                      // BWS after a name: '=', ';' or CRLF
	csExtVal0                    // after '=': BWS, then token or quoted-string
	csExtTok                     // inside a token value
	csExtQuote                   // inside a quoted-string value
	csExtEsc                     // after '\' in a quoted-string
	csSizeLF                     // CR seen at the end of the size line
	csData                       // chunk data
	csDataCR                     // CRLF after chunk data
	csDataLF                     //
	csTrLine                     // start of a trailer line (or the final CRLF)
	csTrName                     // trailer field name
	csTrValue                    // trailer field value
	csTrLF                       // CR seen at the end of a trailer line
	csEndLF                      // CR seen on the final empty line
	csDone
)

// Reset prepares d for a new body, keeping Limits.
func (d *ChunkedDecoder) Reset() {
	*d = ChunkedDecoder{Limits: d.Limits}
}

// Done reports whether the whole body, trailers included, has been consumed.
func (d *ChunkedDecoder) Done() bool { return d.st == csDone }

// Decode consumes framing from in until it has chunk data to hand out, the
// body ends, in runs out, or the input breaks a rule.
//
// consumed counts the bytes of in used, framing and data alike; data is a view
// of in (valid until in's buffer is reused) holding the next chunk-data bytes,
// possibly a part of a chunk; done is set once the last-chunk and the trailer
// section are consumed, and the bytes after in[consumed] belong to the next
// request. A non-empty in is always at least partly consumed unless done or an
// error is returned, so the calling loop is
//
//	for len(buf) > 0 {
//		n, data, done, err := d.Decode(buf)
//		if err != nil { /* answer err.(*Error).Status, close */ }
//		use(data)
//		buf = buf[n:]
//		if done { break }
//	}
//	// buf empty and not done: read more and continue
//
// Errors are *Error values (400, 413 or 431) and sticky.
func (d *ChunkedDecoder) Decode(in []byte) (consumed int, data []byte, done bool, err error) {
	if d.err != nil {
		return 0, nil, false, d.err
	}
	if d.st == csDone {
		return 0, nil, true, nil
	}
	lim := d.Limits
	if lim == nil {
		lim = &zeroLimits
	}
	i := 0
	for i < len(in) {
		if d.st == csData {
			k := int64(len(in) - i)
			if k > d.size {
				k = d.size
			}
			data = in[i : i+int(k)]
			if d.size -= k; d.size == 0 {
				d.st = csDataCR
			}
			return i + int(k), data, false, nil
		}
		c := in[i]
		i++
		if err := d.step(c, lim); err != nil {
			d.err = err
			return i, nil, false, err
		}
		if d.st == csDone {
			return i, nil, true, nil
		}
	}
	return i, nil, false, nil
}

// zeroLimits stands in for a nil Limits: every accessor then gives the default.
var zeroLimits Limits

// step advances the framing state machine by one byte.
func (d *ChunkedDecoder) step(c byte, lim *Limits) error {
	switch d.st {
	case csSize:
		if v := hexValue[c]; v != 0xff {
			if d.digits++; d.digits > 16 || d.size > (1<<63-1)>>4 {
				return errChunkSizeOverflow
			}
			d.size = d.size<<4 | int64(v)
			return nil
		}
		if d.digits == 0 {
			if c == '\r' || c == '\n' || c == ';' || IsOWS(c) {
				return errChunkSizeEmpty
			}
			return errChunkSizeChar
		}
		d.st = csExtSemi
		return d.ext(c, lim)
	case csExtSemi, csExtName0, csExtName, csExtEq, csExtVal0, csExtTok, csExtQuote, csExtEsc:
		return d.ext(c, lim)
	case csSizeLF:
		if c != '\n' {
			return errBareCR
		}
		return d.sizeLineEnd(lim)
	case csDataCR:
		switch {
		case c == '\r':
			d.st = csDataLF
		case c == '\n' && lim.AllowBareLF:
			d.st = csSize
		default:
			return errChunkDataCRLF
		}
	case csDataLF:
		if c != '\n' {
			return errChunkDataCRLF
		}
		d.st, d.digits, d.size, d.extLen, d.extWS = csSize, 0, 0, 0, false
	default:
		return d.trailerStep(c, lim)
	}
	return nil
}

// ext runs the chunk-ext grammar (RFC 9112 §7.1.1):
//
//	chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//	chunk-ext-val = token / quoted-string
//
// and bounds its length.
func (d *ChunkedDecoder) ext(c byte, lim *Limits) error {
	if c == '\r' || c == '\n' {
		if d.st != csExtSemi && d.st != csExtName && d.st != csExtTok || d.extWS {
			return errChunkExt
		}
		if c == '\n' {
			if !lim.AllowBareLF {
				return errBareLF
			}
			return d.sizeLineEnd(lim)
		}
		d.st = csSizeLF
		return nil
	}
	if d.extLen++; d.extLen > lim.maxChunkExtBytes() {
		return errChunkExtTooLong
	}
	ws := IsOWS(c)
	switch d.st {
	case csExtSemi:
		switch {
		case ws:
			d.extWS = true
		case c == ';':
			d.st, d.extWS = csExtName0, false
		default:
			return errChunkExt
		}
	case csExtName0:
		switch {
		case ws:
		case tcharTable[c]:
			d.st = csExtName
		default:
			return errChunkExt
		}
	case csExtName:
		switch {
		case tcharTable[c]:
		case ws:
			d.st, d.extWS = csExtEq, true
		case c == '=':
			d.st = csExtVal0
		case c == ';':
			d.st = csExtName0
		default:
			return errChunkExt
		}
	case csExtEq:
		switch {
		case ws:
		case c == '=':
			d.st, d.extWS = csExtVal0, false
		case c == ';':
			d.st, d.extWS = csExtName0, false
		default:
			return errChunkExt
		}
	case csExtVal0:
		switch {
		case ws:
		case c == '"':
			d.st = csExtQuote
		case tcharTable[c]:
			d.st = csExtTok
		default:
			return errChunkExt
		}
	case csExtTok:
		switch {
		case tcharTable[c]:
		case ws:
			d.st, d.extWS = csExtSemi, true
		case c == ';':
			d.st = csExtName0
		default:
			return errChunkExt
		}
	case csExtQuote:
		switch {
		case c == '"':
			d.st = csExtSemi
		case c == '\\':
			d.st = csExtEsc
		case !fieldValueTable[c]: // qdtext is field-value chars minus '"' and '\'
			return errChunkExt
		}
	case csExtEsc:
		if !fieldValueTable[c] {
			return errChunkExt
		}
		d.st = csExtQuote
	}
	return nil
}

// sizeLineEnd moves past a complete chunk-size line.
func (d *ChunkedDecoder) sizeLineEnd(lim *Limits) error {
	if d.size == 0 {
		d.st = csTrLine
		return nil
	}
	// Compared before adding: a size near 2^63 would wrap the total past the limit.
	if d.size > lim.maxBodyBytes()-d.total {
		return errBodyTooLarge
	}
	d.total += d.size
	d.st = csData
	return nil
}

// trailerStep runs the trailer section (RFC 9112 §7.1.2): field lines checked
// like header fields, then the empty line.
func (d *ChunkedDecoder) trailerStep(c byte, lim *Limits) error {
	if d.trailer++; d.trailer > lim.maxTrailerBytes() {
		return errTrailerTooLarge
	}
	switch d.st {
	case csTrLine:
		switch {
		case c == '\r':
			d.st = csEndLF
		case c == '\n' && lim.AllowBareLF:
			d.st = csDone
		case c == '\n':
			return errBareLF
		case tcharTable[c]:
			d.st = csTrName
		default: // obs-fold, empty name, or junk
			return errTrailerField
		}
	case csTrName:
		switch {
		case tcharTable[c]:
		case c == ':':
			d.st = csTrValue
		default:
			return errTrailerField
		}
	case csTrValue:
		switch {
		case fieldValueTable[c]:
		case c == '\r':
			d.st = csTrLF
		case c == '\n' && lim.AllowBareLF:
			d.st = csTrLine
		case c == '\n':
			return errBareLF
		default:
			return errTrailerField
		}
	case csTrLF, csEndLF:
		if c != '\n' {
			return errBareCR
		}
		if d.st == csEndLF {
			d.st = csDone
		} else {
			d.st = csTrLine
		}
	}
	return nil
}
