// Command gvisorfix writes the build overlay that fixes the pinned gVisor's
// stalled TCP sender (see internal/gvisorfix) and prints its path:
//
//	go build -overlay="$(go run ./cmd/gvisorfix -o build/gvisorfix)" ./...
//
// It exits non-zero, saying why, when the edit no longer applies.
package main

import (
	"flag"
	"fmt"
	"os"

	"gonetif.dev/internal/gvisorfix"
)

func main() {
	out := flag.String("o", "build/gvisorfix", "directory for snd.go and overlay.json")
	flag.Parse()
	path, err := gvisorfix.Generate(".", *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(path)
}
