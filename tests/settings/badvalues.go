// Command badvalues prints "NAME<TAB>VALUE" for every bad value of every
// row of gonetif's settings table, for tests/settings/bad_values.sh.
package main

import (
	"fmt"

	"github.com/gonetif/gonetif/gonetif/config"
)

func main() {
	for _, s := range config.Table {
		for _, v := range config.BadValues(s) {
			fmt.Printf("%s\t%s\n", s.Name, v)
		}
	}
}
