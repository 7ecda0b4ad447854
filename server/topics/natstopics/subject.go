package natstopics

import "strings"

// subject is topic's NATS subject: prefix, a dot, then topic with every byte NATS gives
// a meaning to (token separator, wildcards, whitespace) or that is not printable ASCII
// written as %XX, so that any topic name is one literal subject token and distinct
// topics get distinct subjects.
func subject(prefix, topic string) string {
	var b strings.Builder
	b.Grow(len(prefix) + 1 + len(topic))
	b.WriteString(prefix)
	b.WriteByte('.')
	if topic == "" {
		b.WriteString("%")
		return b.String()
	}
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(topic); i++ {
		c := topic[i]
		if c <= ' ' || c >= 0x7f || c == '.' || c == '*' || c == '>' || c == '%' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
