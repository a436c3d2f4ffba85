package flood

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
)

// fakeSignature is well-formed, so the receiver must read the body to
// find it wrong.
var fakeSignature = "sha256=" + strings.Repeat("0", 64)

// Delivery is the outcome of one real signed delivery made during an
// attack, on a connection of its own.
type Delivery struct {
	Status int // 0: no answer (the error is in Err)
	Took   time.Duration
	Err    string
}

func (d Delivery) String() string {
	if d.Status == 0 {
		return "no answer: " + d.Err
	}
	return fmt.Sprintf("%d in %s", d.Status, d.Took.Round(time.Millisecond))
}

// realDelivery posts one correctly signed document.completed on a new
// connection and waits up to a minute for the answer.
func realDelivery(url string, n int) Delivery {
	body := []byte(fmt.Sprintf(`{"event":"document.completed","document_id":"doc_flood_%d","timestamp":%q,"data":{"total":"1.00"}}`,
		n, time.Now().UTC().Format(time.RFC3339)))
	start := time.Now()
	status, err := post(url, body, docuparse.Sign([]byte(Secret), body), time.Minute)
	d := Delivery{Status: status, Took: time.Since(start)}
	if err != nil {
		d.Err = err.Error()
	}
	return d
}

// post sends body with the signature header on a connection of its own.
func post(url string, body []byte, signature string, timeout time.Duration) (int, error) {
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(docuparse.HeaderSignature, signature)
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// bigBodies makes senders post size-byte bodies with a fake signature all
// at once, rounds times: each sends its headers and all of its body but
// the last byte; once every sender is there (or was refused), they hold
// for hold — the kernel's socket buffers take a 1 MB body whole, so the
// writes end before the receiver has read them — and then all send their
// last byte. It returns the count of each status (0: no answer).
func bigBodies(addr string, senders, size, rounds int, hold time.Duration) map[int]int {
	body := append([]byte(`{"pad":"`), bytes.Repeat([]byte("a"), size-10)...)
	body = append(body, `"}`...)
	head := fmt.Sprintf("POST /webhooks/docuparse HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n%s: %s\r\nContent-Length: %d\r\n\r\n",
		docuparse.HeaderSignature, fakeSignature, len(body))
	var mu sync.Mutex
	statuses := map[int]int{}
	for range rounds {
		var ready, done sync.WaitGroup
		ready.Add(senders)
		all := make(chan struct{})
		for range senders {
			done.Go(func() {
				status := sendAtOnce(addr, head, body, ready.Done, all)
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			})
		}
		ready.Wait()
		time.Sleep(hold)
		close(all)
		done.Wait()
	}
	return statuses
}

// sendAtOnce sends head and body but its last byte, calls ready, waits
// for all to close, sends the last byte and returns the answer's status
// (0: none). ready is called exactly once, even on failure.
func sendAtOnce(addr, head string, body []byte, ready func(), all <-chan struct{}) int {
	once := sync.OnceFunc(ready)
	defer once()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return 0
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	_, err = io.WriteString(c, head)
	if err == nil {
		_, err = c.Write(body[:len(body)-1])
	}
	once()
	if err != nil {
		return readStatus(c) // refused before the end: its answer may be there
	}
	<-all
	if _, err := c.Write(body[len(body)-1:]); err != nil {
		return readStatus(c)
	}
	return readStatus(c)
}

// readStatus reads the status code of the answer on c (0: none).
func readStatus(c net.Conn) int {
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// slowUploads opens n connections that post a fake-signed body declaring
// declared bytes, send the headers and then one byte a second until ctx
// ends. It returns once every connection has sent its headers, with the
// number it could open.
func slowUploads(ctx context.Context, addr string, n, declared int) int {
	head := fmt.Sprintf("POST /webhooks/docuparse HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n%s: %s\r\nContent-Length: %d\r\n\r\n",
		docuparse.HeaderSignature, fakeSignature, declared)
	opened := 0
	for range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			continue
		}
		if _, err := io.WriteString(c, head); err != nil {
			c.Close()
			continue
		}
		opened++
		go func() {
			defer c.Close()
			ctx, stop := context.WithCancel(ctx) // a failed write ends this connection's drip
			defer stop()
			lifecycle.Every(ctx, time.Second, func(context.Context) {
				if _, err := c.Write([]byte("a")); err != nil {
					stop()
				}
			})
		}()
	}
	return opened
}

// idleConns opens n connections that send nothing, and returns those it
// could open (closing them is the caller's).
func idleConns(addr string, n int) []net.Conn {
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			continue
		}
		conns = append(conns, c)
	}
	return conns
}
