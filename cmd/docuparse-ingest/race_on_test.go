//go:build race

package main

// raceTest: this test binary runs with the race detector, so the daemon
// binary the tests start is built with it too (see TestMain).
const raceTest = true
