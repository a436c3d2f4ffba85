package bucket

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"gocloud.dev/blob/azureblob"
)

// TestCheckListsAndProbesWithoutTouchingObjects: on every emulator, Check
// counts the first page under the prefix, and when asked proves delete
// and write permission with probes only: every object is still there
// after it, and no probe is left.
func TestCheckListsAndProbesWithoutTouchingObjects(t *testing.T) {
	for i, start := range bucketemu.All(t) {
		t.Run(bucketemu.Kinds[i], func(t *testing.T) {
			s := start(t)
			b, err := Open(context.Background(), s.URL("a/in/"))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			ctx := context.Background()
			for _, k := range []string{"a/in/x.pdf", "a/in/sub/y.pdf", "a/other.pdf"} {
				if err := b.Blob().WriteAll(ctx, k, []byte(k), nil); err != nil {
					t.Fatal(err)
				}
			}
			c, err := b.Check(ctx, Need{})
			if err != nil || c.Objects != 2 || c.More || c.Note != "" {
				t.Fatalf("Check = %+v, %v; want 2 objects", c, err)
			}
			c, err = b.Check(ctx, Need{Delete: true, WriteUnder: "a/processed/"})
			if err != nil || c.Objects != 2 || c.Note != "" {
				t.Fatalf("Check for move = %+v, %v", c, err)
			}
			var keys []string
			if _, err := b.List(ctx, "", true, func(page []Object) error {
				for _, o := range page {
					keys = append(keys, o.Key)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if strings.Join(keys, " ") != "a/in/sub/y.pdf a/in/x.pdf a/other.pdf" {
				t.Errorf("after the checks the bucket holds %q", keys)
			}
			if s.Kind == "mem" || s.Kind == "file" {
				return
			}
			missing := s
			missing.Bucket += "-missing"
			mb, err := Open(ctx, missing.URL("in/"))
			if err != nil {
				t.Fatal(err)
			}
			defer mb.Close()
			if _, err := mb.Check(ctx, Need{}); err == nil || !strings.Contains(err.Error(), "not found") ||
				!strings.Contains(err.Error(), missing.Kind+"://"+missing.Bucket+"/in/") || strings.Contains(err.Error(), "?") {
				t.Errorf("Check of a missing bucket: %v", err)
			}
			s.Stop()
			// The GCS client retries a refused connection until the
			// context ends: check-config gives each source a deadline too.
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			if _, err := b.Check(ctx, Need{}); err == nil || !strings.Contains(err.Error(), "unreachable") && !strings.Contains(err.Error(), "cannot reach") {
				t.Errorf("Check of a stopped server: %v", err)
			}
		})
	}
}

// azuriteKey is Azurite's published development account key.
const azuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// TestCheckFindsRealDenials uses Azurite, which enforces credentials: a
// wrong account key cannot list, and a SAS token that may read and list
// but not delete or write passes the listing and fails the probes, with
// "access denied" and never the token in the error.
func TestCheckFindsRealDenials(t *testing.T) {
	s := bucketemu.Azurite(t)
	ctx := context.Background()

	u, err := url.Parse(s.URL("in/"))
	if err != nil {
		t.Fatal(err)
	}
	containerURL := "http://" + u.Query().Get("domain") + "/devstoreaccount1/" + s.Bucket
	// gocloud's azblob:// opener reads the credentials from the
	// environment once per process, so these buckets are opened on
	// clients of their own, at the same Location.
	loc, err := Parse(s.URL("in/"))
	if err != nil {
		t.Fatal(err)
	}
	open := func(c *container.Client) *Bucket {
		t.Helper()
		bb, err := azureblob.OpenBucket(ctx, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bb.Close() })
		return &Bucket{Location: loc, b: bb}
	}
	wrongKey, err := azblob.NewSharedKeyCredential("devstoreaccount1", strings.Repeat("A", 86)+"==")
	if err != nil {
		t.Fatal(err)
	}
	wc, err := container.NewClientWithSharedKeyCredential(containerURL, wrongKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open(wc).Check(ctx, Need{}); err == nil || !strings.Contains(err.Error(), "access denied") {
		t.Errorf("Check with a wrong key: %v; want access denied", err)
	}

	cred, err := azblob.NewSharedKeyCredential("devstoreaccount1", azuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	qp, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().Add(time.Hour),
		Permissions: (&sas.ContainerPermissions{Read: true, List: true}).String(), ContainerName: s.Bucket}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := container.NewClientWithNoCredential(containerURL+"?"+qp.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ro := open(rc)
	if _, err := ro.Check(ctx, Need{}); err != nil {
		t.Fatalf("Check of listing with a read/list SAS: %v", err)
	}
	for _, need := range []Need{{Delete: true}, {WriteUnder: "processed/"}} {
		_, err := ro.Check(ctx, need)
		if err == nil || !strings.Contains(err.Error(), "access denied") {
			t.Errorf("Check %+v with a read/list SAS: %v; want access denied", need, err)
		} else if strings.Contains(err.Error(), qp.Signature()) {
			t.Errorf("the error shows the SAS signature: %v", err)
		}
	}
}
