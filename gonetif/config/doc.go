package config

import (
	"fmt"
	"strings"
)

// TypeText describes a setting's accepted values for people.
func (s Setting) TypeText() string {
	if s.Syntax != "" {
		return s.Syntax
	}
	switch s.Kind {
	case Uint:
		return fmt.Sprintf("integer %d..%d", s.Min, s.Max)
	case Bool:
		return "`0` or `1`"
	case Enum:
		return "`" + strings.Join(s.Choices, "`, `") + "`"
	case List:
		return "comma list"
	case MACList:
		return "MAC, comma list"
	default:
		return "text"
	}
}

// Markdown is the README's configuration table, generated from Table.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| variable | values | default | meaning |\n|---|---|---|---|\n")
	for _, s := range Table {
		def := "—"
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", s.Name, s.TypeText(), def, s.Doc)
	}
	return b.String()
}

// BadValues are values a setting must refuse, derived from its kind and
// range, so that tests at every layer (Go, the C API) walk the whole table
// and a new row is covered without editing them. Empty for free text
// without a Check, which the table's tests refuse.
func BadValues(s Setting) []string {
	switch s.Kind {
	case Uint:
		bad := []string{"abc", "-1", "1.5", "12abc", fmt.Sprint(s.Max + 1), "99999999999999999999999"}
		if s.Min > 0 {
			bad = append(bad, fmt.Sprint(s.Min-1))
		}
		return bad
	case Bool:
		return []string{"2", "yes", "true", "-1"}
	case Enum:
		return []string{"nonsense", fmt.Sprint(len(s.Choices)), "-1"}
	case List:
		return append([]string{"a,,b", ","}, refused(s.Check)...)
	case MACList:
		return []string{"zz", "02:12:34:56:78", "02:12:34:56:78:ab,", "02:12:34:56:78:ab:cd:ef"}
	case String:
		return refused(s.Check)
	}
	return nil
}

// refused are the candidates a Check refuses.
func refused(check func(string) error) []string {
	if check == nil {
		return nil
	}
	var bad []string
	for _, v := range []string{"relative/path", "cap%s.pcap", "a%d%d", "100%", "this-name-is-far-too-long", "a/b"} {
		if check(v) != nil {
			bad = append(bad, v)
		}
	}
	return bad
}
