package flood

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/textproto"
	"testing"
)

// TestSlowUploadDripsUntilTheEnd: a slow upload sends its headers, then a
// byte of body at a time, and closes its connection once ctx ends.
func TestSlowUploadDripsUntilTheEnd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if n := slowUploads(ctx, ln.Addr().String(), 1, 100); n != 1 {
		t.Fatalf("opened %d connections, want 1", n)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	tp := textproto.NewReader(r)
	if _, err := tp.ReadLine(); err != nil { // request line
		t.Fatal(err)
	}
	if _, err := tp.ReadMIMEHeader(); err != nil {
		t.Fatal(err)
	}
	b, err := r.ReadByte()
	if err != nil || b != 'a' {
		t.Fatalf("first body byte %q, %v; want 'a'", b, err)
	}
	cancel()
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatalf("the connection did not end cleanly: %v", err)
	}
}
