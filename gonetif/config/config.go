// Package config is the one table of gonetif's run-time settings (the
// GONETIF_* environment variables): name, type, range, default and
// documentation of each, read in one place (Load), validated there, and
// handed to the rest of the library as values. The README's table is
// generated from Table (see Markdown) and checked against it by a test.
//
// Adding a setting is one row in Table and one read of it where it is used.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"gonetif.dev/gonetif/link/delay"
	"gonetif.dev/gonetif/link/usernet"
)

// Kind says how a setting's text is parsed and checked.
type Kind int

const (
	// String is free text; Setting.Check may restrict it.
	String Kind = iota
	// Uint is a decimal integer in Min..Max.
	Uint
	// Bool is 0 or 1.
	Bool
	// Enum is one of Choices, or its index as a number.
	Enum
	// List is a comma-separated list; Setting.Check applies to each item.
	List
	// MACList is a comma-separated list of 6-byte MAC addresses.
	MACList
)

// Setting is one row of the table.
type Setting struct {
	Name    string
	Kind    Kind
	Min     uint64   // Uint: smallest value
	Max     uint64   // Uint: largest value
	Choices []string // Enum: the names, in index order
	Default string   // the value when unset, in the setting's own syntax; "" = none
	Doc     string   // one line for the README
	Syntax  string   // how the README names the values; "" = derived from Kind
	// Check, when set, further restricts a String or each List item. It
	// returns what a valid value looks like.
	Check func(string) error
	// LoggedByC marks a setting the C side also reads itself, before the Go
	// runtime runs (the log level: apps log from constructors), and whose
	// bad value it reports; the C API's own report skips it.
	LoggedByC bool
}

// Names of the settings, for the code that reads them.
const (
	TAP            = "GONETIF_TAP"
	MAC            = "GONETIF_MAC"
	MTU            = "GONETIF_MTU"
	TAPPlain       = "GONETIF_TAP_PLAIN"
	TAPNetNS       = "GONETIF_TAP_NETNS"
	TUNDevice      = "GONETIF_TUN_DEVICE"
	InLoss         = "GONETIF_IN_LOSS"
	OutLoss        = "GONETIF_OUT_LOSS"
	PCAP           = "GONETIF_PCAP"
	TAPNetpoll     = "GONETIF_TAP_NETPOLL"
	LogLevel       = "GONETIF_LOG_LEVEL"
	ExitLingerMS   = "GONETIF_EXIT_LINGER_MS"
	IPLostTimerMS  = "GONETIF_IP_LOST_TIMER_MS"
	Link           = "GONETIF_LINK"
	UserNet        = "GONETIF_USER_NET"
	HostFwd        = "GONETIF_HOSTFWD"
	InDelay        = "GONETIF_IN_DELAY"
	LocalPortRange = "GONETIF_LOCAL_PORT_RANGE"
	TCPMinRTOMS    = "GONETIF_TCP_MIN_RTO_MS"
	OutDelay       = "GONETIF_OUT_DELAY"
	TxQueue        = "GONETIF_TX_QUEUE"
	SendCoalesce   = "GONETIF_SEND_COALESCE"
	AckHoldUS      = "GONETIF_ACK_HOLD_US"
	UDPQueue       = "GONETIF_UDP_QUEUE"
	UDPFastPath    = "GONETIF_UDP_FASTPATH"
	TCPInline      = "GONETIF_TCP_INLINE"
	TCPRTC         = "GONETIF_TCP_RTC"
)

// Link kinds (values of GONETIF_LINK).
const (
	LinkTAP  = "tap"
	LinkUser = "user"
	LinkVLAN = "vlan:" // prefix: vlan:PATH (a gonetif-switch socket) or vlan:NAME (in-process)
	LinkLAN  = "user:" // prefix: user:NAME, the in-process LAN NAME with a user-mode gateway on it
)

// LogLevels are esp_log_level_t's names in value order.
var LogLevels = []string{"none", "error", "warn", "info", "debug", "verbose"}

// Table is every setting gonetif reads. Keep it in the order the README
// shows.
var Table = []Setting{
	{Name: TAP, Kind: List, Default: "tap0", Check: checkIfName, Syntax: "name, comma list",
		Doc: "TAP name; a comma list gives the n-th `tapio_create()` the n-th name (unset: `tap0`, then `tap1`, …)"},
	{Name: MAC, Kind: MACList, Default: "02:12:34:56:78:ab",
		Doc: "MAC, or a comma list (unset: the default, +n for the n-th device)"},
	{Name: MTU, Kind: Uint, Min: 68, Max: 65535, Default: "1500",
		Doc: "IP MTU"},
	{Name: TAPPlain, Kind: Bool, Default: "0",
		Doc: "`1`: no vnet header/offloads (the safe fallback)"},
	{Name: TAPNetNS, Kind: String, Check: checkAbsPath, Syntax: "absolute path",
		Doc: "path of a network namespace holding the TAP (needs CAP_SYS_ADMIN); unset: the current one"},
	{Name: TUNDevice, Kind: String, Default: "/dev/net/tun", Check: checkAbsPath, Syntax: "absolute path",
		Doc: "TUN/TAP clone device"},
	{Name: InLoss, Kind: Uint, Min: 0, Max: 100, Default: "0",
		Doc: "percent of received frames dropped (unset: the app's `CONFIG_EXAMPLE_CONNECT_TAPIF_IN_LOSS`, else 0)"},
	{Name: OutLoss, Kind: Uint, Min: 0, Max: 100, Default: "0",
		Doc: "percent of sent frames dropped (unset: the app's `CONFIG_EXAMPLE_CONNECT_TAPIF_OUT_LOSS`, else 0)"},
	{Name: PCAP, Kind: String, Check: checkPCAPPattern, Syntax: "file path",
		Doc: "write every frame to this pcap file (`%d` = device index; else the n-th device appends `.n`); unset: none"},
	{Name: TAPNetpoll, Kind: Bool, Default: "1",
		Doc: "`0`: read the TAP with a poll(2) thread instead of Go's netpoller"},
	{Name: LogLevel, Kind: Enum, Choices: LogLevels, Default: "info", LoggedByC: true,
		Doc: "level of gonetif's and the app's log lines, by name or number 0..5"},
	{Name: ExitLingerMS, Kind: Uint, Min: 0, Max: 600000, Default: "2000",
		Doc: "how long (ms) closed TCP connections may still send and queued frames (a datagram sent just before exit) wait for their neighbour to answer ARP/ND: at `esp_netif_destroy` (that interface's only) and at exit; 0: not at all"},
	{Name: IPLostTimerMS, Kind: Uint, Min: 1, Max: 86400000, Default: "120000",
		Doc: "after a disconnect, how long (ms) before lost-IP is posted (IDF's 120 s)"},
	{Name: LocalPortRange, Kind: String, Check: checkPortRange, Syntax: "`LOW HIGH`",
		Doc: "ephemeral ports for connect/bind to port 0, as Linux's `net.ipv4.ip_local_port_range`; unset: gVisor's range"},
	{Name: TCPMinRTOMS, Kind: Uint, Min: 1, Max: 200, Default: "200",
		Doc: "floor (ms) of TCP's retransmission timeout; lower recovers faster from losses RACK cannot see, for links known to be short"},
	{Name: Link, Kind: List, Default: LinkTAP, Check: checkLinkKind, Syntax: "`tap`, `user`, `user:NAME`, `vlan:PATH`, `vlan:NAME`, comma list",
		Doc: "link of every device: `tap`; `user` (the user-mode network: no TAP, no root; each device its own network); `user:NAME` (the in-process LAN NAME with one user-mode gateway shared by its devices: DHCP `.15`, `.16`, …); `vlan:PATH` (a virtual LAN: the `gonetif-switch` at that socket path, which has a `/`; `gonetif-switch -gateway` adds the gateway) or `vlan:NAME` (a LAN inside the process, no gateway); a comma list gives the n-th device the n-th kind, later devices the last"},
	{Name: UserNet, Kind: String, Default: "10.0.2.0/24", Check: checkUserNet, Syntax: "IPv4 prefix",
		Doc: "`user` and `user:NAME` links: the network (gateway `.2`, DNS `.3`, DHCP from `.15`); a host address names the gateway: `192.168.5.1/24` lets a static 192.168.5.100-via-.1 app run unchanged"},
	{Name: InDelay, Kind: String, Check: checkDelay, Syntax: "`DELAY` or `DELAY/JITTER`",
		Doc: "delay of received frames, e.g. `20ms` or `20ms/5ms` (jitter; order then not kept); unset: none"},
	{Name: OutDelay, Kind: String, Check: checkDelay, Syntax: "`DELAY` or `DELAY/JITTER`",
		Doc: "delay of sent frames, same syntax; unset: none"},
	{Name: HostFwd, Kind: String, Check: checkHostForwards, Syntax: "QEMU hostfwd list",
		Doc: "`user` and `user:NAME` links: host ports forwarded into the first device (on `user:NAME`, to the device address given; none given: `.15`, the first lease), e.g. `tcp:127.0.0.1:8080-:80,udp::5353-:5353`; unset: none"},
	{Name: TxQueue, Kind: Uint, Min: 0, Max: 65536, Default: "0",
		Doc: "TCP frames per interface queued for a writer goroutine, so the sending thread does not do the TAP write; `0` (the default): the sender writes each frame itself; a switch for now: it speeds connection churn and bulk send but not reliably request/response (bench/RESULTS.md)"},
	{Name: UDPQueue, Kind: Bool, Default: "0",
		Doc: "`1`: UDP frames also go to the writer of `GONETIF_TX_QUEUE` (which must be > 0), and on a TAP with offloads datagrams of one flow and size queued together leave as one UDP segmentation offload frame (kernel 6.2+); `0` (the default): the sender writes each datagram itself (bench/RESULTS.md)"},
	{Name: UDPFastPath, Kind: Bool, Default: "0",
		Doc: "`1`: a connected IPv4 UDP socket with plain options builds its datagrams' headers from a snapshot of its route, neighbour and options and writes them to the interface past gVisor's per-datagram route work (the snapshot is retaken after any socket or interface change and every millisecond; anything else goes gVisor's way); `0` (the default): every datagram goes through gVisor (bench/RESULTS.md)"},
	{Name: SendCoalesce, Kind: Bool, Default: "1",
		Doc: "`1` (the default): small TCP writes made while Nagle would hold them are buffered per socket and handed to the stack in batches (64-byte writes 6-8x faster, bench/RESULTS.md); `0`: each send goes to the stack as it comes"},
	{Name: AckHoldUS, Kind: Uint, Min: 0, Max: 100000, Default: "0",
		Doc: "how long (µs) a bare TCP ACK may wait for the connection's next segment to carry it (a delayed ACK, as Linux and lwIP do: request/response sends one frame per trip instead of two, a connection three instead of five); `0` (the default): every ACK is written at once; off because on a TAP it did not speed request/response and cost bulk receive a quarter (bench/RESULTS.md)"},
	{Name: TCPInline, Kind: Bool, Default: "0",
		Doc: "`1`: an incoming TCP segment of a connected or connecting socket is processed by the goroutine that read it (the TAP reader) instead of being handed to one of gVisor's processor goroutines, one wake-up less per segment (bulk transfer stays on the processors); needs the gVisor overlay (\"gVisor fix\"); `0` (the default): gVisor's processors do all TCP work (bench/RESULTS.md)"},
	{Name: TCPRTC, Kind: Bool, Default: "0",
		Doc: "`1`: run-to-completion receive: a C thread about to block on a TCP or connected UDP socket of a TAP interface waits for the TAP itself and reads and processes its frames on its own thread (implies `GONETIF_TCP_INLINE=1`; needs the netpoll reader; not under the FreeRTOS port, which logs and ignores it but keeps inline processing on); `0` (the default): the TAP's reader goroutine reads every frame (bench/RESULTS.md)"},
}

// Lookup finds a row by name.
func Lookup(name string) (Setting, bool) {
	for _, s := range Table {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// Error is a setting whose value does not parse.
type Error struct {
	Name  string
	Value string
	Want  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s=%q: want %s", e.Name, e.Value, e.Want)
}

// Values are the settings read once from an environment.
type Values struct {
	raw  map[string]string
	errs map[string]error
}

// Load reads and checks every setting of Table through lookup (os.LookupEnv,
// or a map in tests). The Values are usable even when some settings are bad:
// those read as their default and report their error through Err; the
// returned error joins every bad setting's error.
func Load(lookup func(string) (string, bool)) (*Values, error) {
	v := &Values{raw: map[string]string{}, errs: map[string]error{}}
	var all []error
	for _, s := range Table {
		text, ok := lookup(s.Name)
		text = strings.TrimSpace(text)
		if !ok || text == "" {
			continue
		}
		if err := s.validate(text); err != nil {
			v.errs[s.Name] = err
			all = append(all, err)
			continue
		}
		v.raw[s.Name] = text
	}
	return v, errors.Join(all...)
}

// Environ loads the settings from the process environment.
func Environ() (*Values, error) { return Load(os.LookupEnv) }

// Defaults is Values with nothing set.
func Defaults() *Values {
	v, _ := Load(func(string) (string, bool) { return "", false })
	return v
}

// Err is the error of one setting, nil when it is unset or valid.
func (v *Values) Err(name string) error {
	mustKnow(name)
	return v.errs[name]
}

// IsSet reports whether a valid value was given for name.
func (v *Values) IsSet(name string) bool {
	mustKnow(name)
	_, ok := v.raw[name]
	return ok
}

// Text is the setting as given, or its default.
func (v *Values) Text(name string) string {
	s := mustKnow(name)
	if t, ok := v.raw[name]; ok {
		return t
	}
	return s.Default
}

// Uint is a Uint setting's value (or an Enum's index, or a Bool as 0/1).
func (v *Values) Uint(name string) uint64 {
	s := mustKnow(name)
	t := v.Text(name)
	if t == "" {
		return 0
	}
	if s.Kind == Enum {
		i, _ := s.enumIndex(t)
		return uint64(i)
	}
	n, _ := strconv.ParseUint(t, 10, 64)
	return n
}

// Bool is a Bool setting's value.
func (v *Values) Bool(name string) bool { return v.Uint(name) == 1 }

// List is a List or MACList setting's items ([] when unset and no default).
func (v *Values) List(name string) []string {
	t := v.Text(name)
	if t == "" {
		return nil
	}
	parts := strings.Split(t, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// Nth is the i-th item of a list setting as given, "" when the list is
// unset or shorter (the default applies only through Text).
func (v *Values) Nth(name string, i int) string {
	if !v.IsSet(name) {
		return ""
	}
	items := v.List(name)
	if i < len(items) {
		return items[i]
	}
	return ""
}

// mustKnow panics on a name missing from Table: that is a bug in gonetif,
// caught by its tests, not a user error.
func mustKnow(name string) Setting {
	s, ok := Lookup(name)
	if !ok {
		panic("config: " + name + " is not in config.Table")
	}
	return s
}

// validate checks one value against its row.
func (s Setting) validate(text string) error {
	bad := func(want string) error { return &Error{Name: s.Name, Value: text, Want: want} }
	switch s.Kind {
	case Uint:
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil || n < s.Min || n > s.Max {
			return bad(fmt.Sprintf("a whole number in %d..%d", s.Min, s.Max))
		}
	case Bool:
		if text != "0" && text != "1" {
			return bad("0 or 1")
		}
	case Enum:
		if _, ok := s.enumIndex(text); !ok {
			return bad(fmt.Sprintf("one of %s (or 0..%d)", strings.Join(s.Choices, "|"), len(s.Choices)-1))
		}
	case List:
		for _, item := range strings.Split(text, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				return bad("a comma list without empty items")
			}
			if s.Check != nil {
				if err := s.Check(item); err != nil {
					return bad(err.Error())
				}
			}
		}
	case MACList:
		for _, item := range strings.Split(text, ",") {
			mac, err := net.ParseMAC(strings.TrimSpace(item))
			if err != nil || len(mac) != 6 {
				return bad("MAC addresses aa:bb:cc:dd:ee:ff, comma separated")
			}
		}
	case String:
		if s.Check != nil {
			if err := s.Check(text); err != nil {
				return bad(err.Error())
			}
		}
	default:
		return bad("a known kind of setting")
	}
	return nil
}

func (s Setting) enumIndex(text string) (int, bool) {
	for i, c := range s.Choices {
		if strings.EqualFold(text, c) {
			return i, true
		}
	}
	if n, err := strconv.Atoi(text); err == nil && n >= 0 && n < len(s.Choices) {
		return n, true
	}
	return 0, false
}

// checkIfName: Linux interface names are 1..15 bytes without '/' or blanks.
func checkIfName(s string) error {
	if len(s) > 15 || strings.ContainsAny(s, "/: \t\n") || s == "." || s == ".." {
		return errors.New("interface names of at most 15 characters, no '/', ':' or blanks")
	}
	return nil
}

func checkLinkKind(s string) error {
	prefixed := func(p string) bool { return strings.HasPrefix(s, p) && len(s) > len(p) }
	if s != LinkTAP && s != LinkUser && !prefixed(LinkVLAN) && !prefixed(LinkLAN) {
		return errors.New("`tap`, `user`, `user:NAME`, `vlan:PATH` or `vlan:NAME`")
	}
	return nil
}

// ParsePortRange reads "LOW HIGH" (inclusive, 1 <= LOW <= HIGH <= 65535).
func ParsePortRange(s string) ([2]uint16, error) {
	f := strings.Fields(s)
	bad := errors.New("two ports \"LOW HIGH\", 1 <= LOW <= HIGH <= 65535")
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

func checkPortRange(s string) error {
	_, err := ParsePortRange(s)
	return err
}

func checkDelay(s string) error {
	if _, err := delay.ParseSpec(s); err != nil {
		return errors.New("a delay like 20ms or 20ms/5ms (" + err.Error() + ")")
	}
	return nil
}

func checkUserNet(s string) error {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p.Bits() > 29 || p.Bits() < 8 {
		return errors.New("an IPv4 network like 10.0.2.0/24 (/8 to /29)")
	}
	return nil
}

func checkHostForwards(s string) error {
	if _, err := usernet.ParseHostForwards(s); err != nil {
		return errors.New("forwards like tcp:127.0.0.1:8080-:80,udp::5353-:5353 (" + err.Error() + ")")
	}
	return nil
}

func checkAbsPath(s string) error {
	if !strings.HasPrefix(s, "/") {
		return errors.New("an absolute path")
	}
	return nil
}

// checkPCAPPattern allows one "%d" and no other verb: the path is a format
// with the device index as its only argument.
func checkPCAPPattern(s string) error {
	rest := strings.Replace(s, "%d", "", 1)
	if strings.Contains(rest, "%") {
		return errors.New("a file path with at most one %d and no other %")
	}
	return nil
}
