package report

import (
	"bytes"
	"fmt"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/counters"
)

// The API-call counters (counters.APICallsPrefix + endpoint) count every
// HTTP attempt, repeats after an error or time-out included.
const (
	callsSubmitBatch = counters.APICallsPrefix + apiclient.EndpointSubmitBatch
	callsExtract     = counters.APICallsPrefix + apiclient.EndpointExtract
	callsGetDocument = counters.APICallsPrefix + apiclient.EndpointGetDocument
	callsGetBatch    = counters.APICallsPrefix + apiclient.EndpointGetBatch
)

// mdAPICalls writes the day's calls to the API in words: uploads as
// attempts for the batches and files they carried, look-ups by what they
// looked up. cs are the counters that are not webhook refusals; one this
// version does not know is shown by its name.
func (r *Report) mdAPICalls(b *bytes.Buffer, cs []Counter) {
	calls := map[string]int64{}
	for _, c := range cs {
		calls[c.Name] = c.Count
	}
	u := r.Uploads
	if len(calls) == 0 && u.Batches == 0 && u.SingleFiles == 0 {
		return
	}
	b.WriteString("## Calls to the DocuParse API\n\nEvery attempt is counted, repeats after an error or time-out included.\n\n")
	if n := calls[callsSubmitBatch]; n > 0 || u.Batches > 0 {
		fmt.Fprintf(b, "- Uploads of batches: %s for %s (%s)%s\n", plural64(n, "upload attempt"), plural(u.Batches, "batch"),
			plural(u.BatchFiles, "file"), repeats(n, int64(u.Batches)))
	}
	if n := calls[callsExtract]; n > 0 || u.SingleFiles > 0 {
		fmt.Fprintf(b, "- Uploads of single files: %s for %s%s\n", plural64(n, "upload attempt"), plural(u.SingleFiles, "file"),
			repeats(n, int64(u.SingleFiles)))
	}
	if n := calls[callsGetDocument]; n > 0 {
		fmt.Fprintf(b, "- Look-ups of a file's result (polling): %d\n", n)
	}
	if n := calls[callsGetBatch]; n > 0 {
		fmt.Fprintf(b, "- Look-ups of a batch's progress: %d\n", n)
	}
	for _, c := range cs {
		switch c.Name {
		case callsSubmitBatch, callsExtract, callsGetDocument, callsGetBatch:
		default:
			fmt.Fprintf(b, "- %s: %d\n", mdCode(c.Name), c.Count)
		}
	}
	b.WriteString("\n")
}

// repeats says how many of attempts were repeats of the first tries of
// sent, when it can tell (an attempt near midnight may fall on another day
// than its batch's first).
func repeats(attempts, sent int64) string {
	if attempts <= sent {
		return ""
	}
	return fmt.Sprintf("; %d of them repeated an upload after an error or time-out", attempts-sent)
}
