package hostile

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"time"
)

// Echo is one round of the real traffic that runs beside a flood: data
// written to an echo service on c and read back byte for byte, within
// 20 s.
func Echo(c net.Conn, data []byte) error {
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		errc <- err
	}()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	if err := <-errc; err != nil {
		return fmt.Errorf("echo write: %w", err)
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("the echo of %d bytes differs", len(data))
	}
	return nil
}

// ServeEcho echoes every connection ln accepts until the client's FIN,
// and returns when ln is closed. No deadline: its timer would keep each
// endpoint in memory for as long (the soak test makes thousands).
func ServeEcho(ln net.Listener) {
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
