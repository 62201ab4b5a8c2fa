package tapio

import (
	"errors"
	"net"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestFromEnvListsAndDefaults(t *testing.T) {
	t.Setenv(EnvTAP, "tapA, tapB")
	t.Setenv(EnvMAC, "02:00:00:00:00:0a")
	t.Setenv(EnvMTU, "1400")
	t.Setenv(EnvInLoss, "5")
	t.Setenv(EnvPCAP, "/tmp/cap-%d.pcap")

	first, err := FromEnv(Config{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if first.Name != "tapA" || first.MAC.String() != "02:00:00:00:00:0a" || first.MTU != 1400 ||
		first.InLoss != 5 || first.PCAP != "/tmp/cap-0.pcap" {
		t.Fatalf("first device: %+v", first)
	}
	second, err := FromEnv(Config{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The MAC list has one entry: the second device gets a derived MAC.
	if second.Name != "tapB" || second.MAC.String() != "02:12:34:56:78:ac" || second.PCAP != "/tmp/cap-1.pcap" {
		t.Fatalf("second device: %+v", second)
	}
	third, _ := FromEnv(Config{}, 2)
	if third.Name != "tap2" {
		t.Fatalf("third device name %q, want tap2", third.Name)
	}
}

func TestFromEnvExplicitWins(t *testing.T) {
	t.Setenv(EnvTAP, "fromenv")
	t.Setenv(EnvPlain, "1")
	mac := net.HardwareAddr{2, 1, 1, 1, 1, 1}
	cfg, err := FromEnv(Config{Name: "explicit", MAC: mac}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "explicit" || cfg.MAC.String() != mac.String() || !cfg.Plain {
		t.Fatalf("%+v", cfg)
	}
}

func TestFromEnvRejectsMalformed(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{EnvMAC, "not-a-mac"},
		{EnvMTU, "12"},
		{EnvMTU, "big"},
		{EnvPlain, "yes"},
		{EnvInLoss, "101"},
		{EnvOutLoss, "-1"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			_, err := FromEnv(Config{}, 0)
			var te *Error
			if !errors.As(err, &te) || !errors.Is(err, unix.EINVAL) {
				t.Fatalf("got %v, want a *tapio.Error wrapping EINVAL", err)
			}
		})
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{MAC: net.HardwareAddr{1, 2, 3}},
		{InLoss: 200},
		{OutLoss: -5},
	} {
		if _, err := Open(cfg); !errors.Is(err, unix.EINVAL) {
			t.Errorf("Open(%+v) = %v, want EINVAL", cfg, err)
		}
	}
}

// Open's errors name the settings C users set (GONETIF_*), never a Go
// field of the tap package.
func TestOpenErrorsNameSettings(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Name: "gnt-nosuch0"}, EnvTAP},
		{Config{Name: "lo", Device: "/nonexistent/tun"}, EnvDevice}, // lo exists: the clone device is what is missing
	} {
		_, err := Open(c.cfg)
		if err == nil {
			t.Fatalf("Open(%+v) worked", c.cfg)
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || strings.Contains(msg, "Options.") {
			t.Errorf("Open(%+v): %q: want %s named and no Go field", c.cfg, msg, c.want)
		}
	}
}
