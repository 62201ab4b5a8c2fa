//go:build !race

package gonetif_test

const raceEnabled = false
