// Switchyard patch: see accept_peer.go. Elsewhere than Linux, x/sys's Accept does.

//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import "github.com/panjf2000/gnet/v2/pkg/socket"

type acceptScratch struct{}

func (el *eventloop) acceptPeer(fd int) (int, peer, error) {
	nfd, sa, err := socket.Accept(fd)
	if err != nil {
		return -1, peer{}, err
	}
	return nfd, peerOfSockaddr(sa), nil
}

// isNoNetwork stands in for Linux's ENONET, which other systems lack.
func isNoNetwork(error) bool { return false }
