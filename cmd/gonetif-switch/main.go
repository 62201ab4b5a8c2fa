// Command gonetif-switch is a virtual Ethernet switch for gonetif apps in
// separate processes: each app started with GONETIF_LINK=vlan:PATH joins
// the LAN through the UNIX socket at PATH. No root, no TAP.
//
//	gonetif-switch [-mtu 1500] [-queue 1024] [-quiet] PATH
//
// It prints "listening on PATH" once ready, logs peers joining and leaving
// and dropped frames to stderr, and stops cleanly (socket file removed) on
// SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gonetif/gonetif/gonetif/link/vlan"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("gonetif-switch", flag.ContinueOnError)
	mtu := fs.Uint("mtu", vlan.DefaultMTU, "largest IP MTU on the LAN; longer frames are dropped")
	queue := fs.Int("queue", vlan.DefaultQueueLen, "frames queued per peer before frames to it are dropped")
	quiet := fs.Bool("quiet", false, "log only errors, not peers joining and leaving")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: gonetif-switch [flags] SOCKET_PATH\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	path := fs.Arg(0)
	logger := log.New(os.Stderr, "gonetif-switch: ", log.LstdFlags|log.Lmicroseconds)
	logf := logger.Printf
	if *quiet {
		logf = func(format string, args ...any) {
			if msg := fmt.Sprintf(format, args...); !isPeerNews(msg) {
				logger.Print(msg)
			}
		}
	}
	if *mtu > vlan.MaxMTU {
		logger.Printf("-mtu %d: at most %d", *mtu, vlan.MaxMTU)
		return 2
	}
	sw, err := vlan.NewSwitch(vlan.Options{MTU: uint32(*mtu), QueueLen: *queue, Logf: logf})
	if err != nil {
		logger.Print(err)
		return 2
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	srv, err := vlan.Listen(sw, path)
	if err != nil {
		logger.Print(err)
		return 1
	}
	logger.Printf("listening on %s (MTU %d)", path, sw.MTU())
	sig := <-sigs
	logger.Printf("%v: stopping", sig)
	rc := 0
	if err := srv.Close(); err != nil {
		logger.Printf("close: %v", err)
		rc = 1
	}
	sw.Close()
	st := sw.Stats()
	logger.Printf("stopped; forwarded %d, flooded %d, dropped %d malformed, %d oversize, %d at full queues",
		st.Forwarded, st.Flooded, st.Malformed, st.Oversize, st.QueueFull)
	return rc
}

func isPeerNews(msg string) bool {
	return strings.HasSuffix(msg, " joined") || strings.HasSuffix(msg, " left")
}
