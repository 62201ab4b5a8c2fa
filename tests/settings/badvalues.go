// Command badvalues prints "NAME<TAB>VALUE" for every bad value of every
// row of gonetif's settings table, for tests/settings/bad_values.sh; with
// -good, the good values of the rows the C side parses itself (LoggedByC),
// so the script can check that C and the table accept the same values.
package main

import (
	"flag"
	"fmt"
	"strings"

	"gonetif.dev/gonetif/config"
)

func main() {
	good := flag.Bool("good", false, "print good values of the rows C parses itself")
	flag.Parse()
	for _, s := range config.Table {
		if !*good {
			for _, v := range config.BadValues(s) {
				fmt.Printf("%s\t%s\n", s.Name, v)
			}
			continue
		}
		if !s.LoggedByC {
			continue
		}
		if s.Kind != config.Enum {
			panic(s.Name + ": only enum rows are parsed in C")
		}
		for i, c := range s.Choices {
			fmt.Printf("%s\t%s\t%d\n", s.Name, c, i)
			fmt.Printf("%s\t%s\t%d\n", s.Name, strings.ToUpper(c), i)
			fmt.Printf("%s\t%d\t%d\n", s.Name, i, i)
		}
	}
}
