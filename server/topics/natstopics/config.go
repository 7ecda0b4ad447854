package natstopics

import "time"

// Config sets up an Engine. Zero values take the defaults.
type Config struct {
	URL    string // NATS server(s), comma-separated, e.g. nats://127.0.0.1:4222 (required)
	Name   string // the connection's name, shown by the NATS server (default "switchyard")
	Prefix string // subjects are Prefix.<topic> (default "switchyard")

	// QueueMessages and QueueBytes bound the publishes waiting for the publishing
	// goroutine (default 8192 messages, 16 MiB): past them a publish is dropped and
	// counted (Stats.QueueDropped).
	QueueMessages int
	QueueBytes    int
	// ReconnectBuffer bounds what nats.go holds while it reconnects (default 8 MiB):
	// past it a publish is refused and counted (Stats.Refused).
	ReconnectBuffer int
	// ReconnectWait is the pause between reconnect attempts (default 250ms); attempts
	// never stop.
	ReconnectWait time.Duration
	// PendingMessages and PendingBytes bound, per topic, the messages received from NATS
	// and not yet handed to the room (default 65536 messages, 64 MiB): past them NATS
	// drops (a slow consumer) and the receiver counts the gap.
	PendingMessages int
	PendingBytes    int
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.QueueMessages, 8192)
	def(&c.QueueBytes, 16<<20)
	def(&c.ReconnectBuffer, 8<<20)
	def(&c.PendingMessages, 65536)
	def(&c.PendingBytes, 64<<20)
	if c.ReconnectWait <= 0 {
		c.ReconnectWait = 250 * time.Millisecond
	}
	if c.Name == "" {
		c.Name = "switchyard"
	}
	if c.Prefix == "" {
		c.Prefix = "switchyard"
	}
	return c
}
