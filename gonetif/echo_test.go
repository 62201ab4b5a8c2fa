package gonetif_test

import (
	"io"
	"net"
)

// serveTCPEcho echoes every connection ln accepts until the client's FIN,
// and returns when ln is closed. No deadline: its timer would keep each
// endpoint in memory for as long (the soak test makes thousands).
func serveTCPEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func(c net.Conn) {
			defer c.Close()
			_, _ = io.Copy(c, c)
		}(c)
	}
}
