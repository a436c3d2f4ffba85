package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/samples"
)

// extractionFailedMessage is the article's document.failed message.
const extractionFailedMessage = "Document extraction failed for this file."

func extractionFailed() *docuparse.Error {
	return &docuparse.Error{Code: docuparse.CodeExtractionFailed, Message: extractionFailedMessage}
}

// Extract is the simulator's deterministic extraction, without the
// FailureRate pick: a file that samples.Parse reads (by its extension) gives
// that sample's data, exactly as the file says; a file containing
// samples.FailMarker, or that does not parse, fails with EXTRACTION_FAILED.
// Exactly one of the results is non-nil.
func Extract(filename string, content []byte) (*docuparse.Data, *docuparse.Error) {
	if bytes.Contains(content, []byte(samples.FailMarker)) {
		return nil, extractionFailed()
	}
	inv, err := samples.Parse(filename, content)
	if err != nil {
		return nil, extractionFailed()
	}
	return inv.Data(), nil
}

// Extract is the outcome this server gives the file: the package's Extract,
// plus the Config.FailureRate pick, which fails a good file when the first
// eight bytes of its SHA-256, as a fraction of 2^64, fall below the rate.
func (s *Server) Extract(filename string, content []byte) (*docuparse.Data, *docuparse.Error) {
	if s.cfg.FailureRate > 0 && failurePicked(sha256.Sum256(content), s.cfg.FailureRate) {
		return nil, extractionFailed()
	}
	return Extract(filename, content)
}

func failurePicked(sum [sha256.Size]byte, rate float64) bool {
	v := binary.BigEndian.Uint64(sum[:8]) >> 11 // 53 bits: exact in a float64
	return float64(v)/(1<<53) < rate
}
