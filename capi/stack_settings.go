package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gonetif/gonetif/gonetif"
	"github.com/gonetif/gonetif/gonetif/stack"
)

// Stack-wide settings, read once when the stack is built and passed down.

// stackOptions: GONETIF_LOCAL_PORT_RANGE, Linux's
// net.ipv4.ip_local_port_range ("low high").
func stackOptions() (stack.Options, error) {
	var opts stack.Options
	if v := os.Getenv("GONETIF_LOCAL_PORT_RANGE"); v != "" {
		r, err := parsePortRange(v)
		if err != nil {
			return opts, err
		}
		opts.LocalPortRange = r
	}
	return opts, nil
}

// applyStackSettings: GONETIF_EXIT_LINGER_MS, how long closed connections
// may still send at esp_netif_destroy and at exit.
func applyStackSettings(s *gonetif.Stack) {
	if v := os.Getenv("GONETIF_EXIT_LINGER_MS"); v != "" {
		ms, err := strconv.ParseUint(strings.TrimSpace(v), 10, 31)
		if err != nil {
			logf(logError, "GONETIF_EXIT_LINGER_MS=%q: want milliseconds, 0 or more; using %v", v, s.ExitLinger)
			return
		}
		s.ExitLinger = time.Duration(ms) * time.Millisecond
	}
}

// parsePortRange reads "low high" (inclusive, 1..65535, low <= high).
func parsePortRange(v string) ([2]uint16, error) {
	f := strings.Fields(v)
	bad := fmt.Errorf("GONETIF_LOCAL_PORT_RANGE=%q: want two ports \"low high\", 1 <= low <= high <= 65535", v)
	if len(f) != 2 {
		return [2]uint16{}, bad
	}
	lo, err1 := strconv.ParseUint(f[0], 10, 16)
	hi, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || lo == 0 || lo > hi {
		return [2]uint16{}, bad
	}
	return [2]uint16{uint16(lo), uint16(hi)}, nil
}
