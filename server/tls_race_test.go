//go:build race

package server_test

// tlsRaceEnabled: under the race detector sync.Pool drops items on purpose, so the
// allocation budget of the pooled TLS paths (crypto/tls's record buffers, ours for
// decrypted input) cannot hold.
const tlsRaceEnabled = true
