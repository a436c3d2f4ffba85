//go:build !race

package main

// raceTest: this test binary runs without the race detector (see
// race_on_test.go).
const raceTest = false
