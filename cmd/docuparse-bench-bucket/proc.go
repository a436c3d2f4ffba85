package main

import "fmt"

// mb formats bytes as mebibytes.
func mb(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
