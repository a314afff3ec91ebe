//go:build !linux

package transport

import "net"

// fastReads is Linux's alone (see fastread_linux.go): elsewhere reads go
// through the runtime's own path.
func fastReads(c net.Conn) net.Conn { return c }
