package h2

// blockScanner finds where each HPACK representation starts (RFC 7541 §6)
// without decoding anything, to enforce the one rule hpack.Decoder checks
// only partly: a dynamic table size update must come at the start of a
// header block, before any field (RFC 7541 §4.2). hpack.Decoder rejects a
// late update only while its dynamic table is non-empty. The scanner is
// resumable because a block arrives in fragments split at arbitrary bytes.
type blockScanner struct {
	sawField bool  // a field representation has started in this block
	state    uint8 // scan* below
	strings  uint8 // string literals left in the current representation
	shift    uint8 // next 7-bit group of a string length
	n        uint64
	gaveUp   bool // string length overflowed: hpack.Decoder rejects it itself
}

const (
	scanRepr    = iota // at the first octet of a representation
	scanInt            // in the continuation octets of a prefix integer
	scanStrHdr         // at a string literal's first octet (H bit, length)
	scanStrLen         // in the continuation octets of a string length
	scanStrBody        // skipping n octets of string data
)

func (s *blockScanner) reset() { *s = blockScanner{} }

// scan advances over p and reports a size update that follows a field.
func (s *blockScanner) scan(p []byte) error {
	for i := 0; i < len(p) && !s.gaveUp; {
		c := p[i]
		switch s.state {
		case scanRepr:
			i++
			switch {
			case c&0x80 != 0: // indexed field, §6.1: 7-bit index
				s.sawField = true
				s.beginInt(c&0x7f == 0x7f, 0)
			case c&0xc0 == 0x40: // literal with incremental indexing, §6.2.1
				s.sawField = true
				s.beginLiteral(c&0x3f, 0x3f)
			case c&0xe0 == 0x20: // dynamic table size update, §6.3
				if s.sawField {
					return errSizeUpdateLate
				}
				s.beginInt(c&0x1f == 0x1f, 0)
			default: // literal without indexing or never indexed, §6.2.2-3
				s.sawField = true
				s.beginLiteral(c&0x0f, 0x0f)
			}
		case scanInt:
			i++
			if c&0x80 == 0 {
				s.afterInt()
			}
		case scanStrHdr:
			i++
			s.n = uint64(c & 0x7f)
			if s.n == 0x7f {
				s.shift, s.state = 0, scanStrLen
			} else {
				s.beginBody()
			}
		case scanStrLen:
			i++
			if s.shift > 56 {
				s.gaveUp = true
				break
			}
			s.n += uint64(c&0x7f) << s.shift
			s.shift += 7
			if c&0x80 == 0 {
				s.beginBody()
			}
		case scanStrBody:
			k := min(uint64(len(p)-i), s.n)
			i += int(k)
			s.n -= k
			if s.n == 0 {
				s.endString()
			}
		}
	}
	return nil
}

// beginInt starts a representation whose prefix integer may continue
// (multi) and which is followed by strings string literals.
func (s *blockScanner) beginInt(multi bool, strings uint8) {
	s.strings = strings
	if multi {
		s.state = scanInt
	} else {
		s.afterInt()
	}
}

// beginLiteral starts a literal field: a name index in the prefix (0 means
// a literal name follows), then the value.
func (s *blockScanner) beginLiteral(prefix, mask byte) {
	strings := uint8(1)
	if prefix == 0 {
		strings = 2
	}
	s.beginInt(prefix == mask, strings)
}

func (s *blockScanner) afterInt() {
	if s.strings > 0 {
		s.state = scanStrHdr
	} else {
		s.state = scanRepr
	}
}

func (s *blockScanner) beginBody() {
	s.state = scanStrBody
	if s.n == 0 {
		s.endString()
	}
}

func (s *blockScanner) endString() {
	s.strings--
	s.afterInt()
}
