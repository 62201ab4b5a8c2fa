// Command gvisorfix writes the build overlay that fixes bugs of the pinned
// gVisor (the edits of internal/gvisorfix) and prints the flags using it:
//
//	GOFLAGS="$(go run ./cmd/gvisorfix -o build/gvisorfix)" go build ./...
//
// It exits non-zero, saying why, when an edit no longer applies.
package main

import (
	"flag"
	"fmt"
	"os"

	"gonetif.dev/internal/gvisorfix"
)

func main() {
	out := flag.String("o", "build/gvisorfix", "directory for the patched files, go.mod and overlay.json")
	flag.Parse()
	path, err := gvisorfix.Generate(".", *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(path)
}
