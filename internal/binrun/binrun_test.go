package binrun

import (
	"context"
	"net"
	"testing"
	"time"
)

func TestWaitListeningReturnsOnceSomethingListens(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := WaitListening(ctx, addr); err == nil {
		t.Fatal("WaitListening returned nil with nothing listening")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := WaitListeningFor(addr, 10*time.Second); err != nil {
		t.Fatalf("with a listener: %v", err)
	}
}
