//go:build race

package gonetif_test

const raceEnabled = true
