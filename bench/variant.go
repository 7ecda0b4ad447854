package bench

import "strings"

// A variant is switchyard run with extra `switchyard serve` flags, named by appending
// them with "+": `-servers switchyard,switchyard+-reuseport,switchyard+-idle-spins+-1`
// runs the three side by side in one alternation, which is how a setting is compared
// on a machine whose speed drifts between runs. Variants are not peers: the bars
// compare the plain "switchyard" with the peers only.
const variantSep = "+"

// variantOf splits a server name into the server and a variant's extra flags.
func variantOf(name string) (server string, flags []string) {
	parts := strings.Split(name, variantSep)
	return parts[0], parts[1:]
}

// isVariant reports whether name is a variant of switchyard.
func isVariant(name string) bool {
	server, flags := variantOf(name)
	return server == "switchyard" && len(flags) > 0
}
