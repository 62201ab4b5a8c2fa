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
