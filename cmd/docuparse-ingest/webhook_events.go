package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// eventStatuses are the values webhook list --status takes.
var eventStatuses = []string{vocab.EventDead, vocab.EventOrphan, vocab.EventConflict, vocab.EventDuplicate,
	vocab.EventApplied, vocab.EventPending, "all"}

type eventJSON struct {
	ID         int64           `json:"id"`
	ReceivedAt time.Time       `json:"received_at"`
	Status     string          `json:"status"`
	Event      string          `json:"event"`
	DocumentID string          `json:"document_id,omitempty"`
	BatchID    string          `json:"batch_id,omitempty"`
	DeliveryID string          `json:"delivery_id,omitempty"`
	Note       string          `json:"note,omitempty"`
	Body       json.RawMessage `json:"body,omitempty"`
	RawBody    string          `json:"raw_body,omitempty"` // when the body is not JSON
}

// runWebhookList lists journaled webhook events; by default the dead
// letters (unknown types, unparseable bodies) an operator should look at.
func (m *Main) runWebhookList(ctx context.Context, args []string) error {
	fs := m.newFlags("webhook list")
	path := fs.String("config", config.DefaultPath, "configuration file")
	status := fs.String("status", vocab.EventDead, strings.Join(eventStatuses, ", "))
	limit := fs.Int("limit", 100, "list the newest N events")
	asJSON := fs.Bool("json", false, "print JSON, bodies included")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !slices.Contains(eventStatuses, *status) {
		return usageError{fmt.Sprintf("webhook list: --status %q is not one of %s", *status, strings.Join(eventStatuses, ", "))}
	}
	if *limit < 1 {
		return usageError{fmt.Sprintf("webhook list: --limit %d: want at least 1", *limit)}
	}
	st, err := m.openState(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	filter := *status
	if filter == "all" {
		filter = ""
	}
	evs, err := st.Events(ctx, filter, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]eventJSON, 0, len(evs))
		for _, e := range evs {
			j := eventJSON{ID: e.ID, ReceivedAt: e.ReceivedAt, Status: e.Status, Event: e.Type, DocumentID: e.DocumentID,
				BatchID: e.BatchID, DeliveryID: e.DeliveryID, Note: e.Note}
			if json.Valid(e.Body) {
				j.Body = e.Body
			} else {
				j.RawBody = string(e.Body)
			}
			out = append(out, j)
		}
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED\tSTATUS\tEVENT\tDOCUMENT/BATCH\tNOTE")
	for _, e := range evs {
		subject := e.DocumentID
		if subject == "" {
			subject = e.BatchID
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.ReceivedAt.Local().Format(time.RFC3339), safetext.Visible(e.Status),
			orDash(safetext.Visible(e.Type)), orDash(safetext.Visible(subject)), safetext.Visible(e.Note))
	}
	tw.Flush()
	if len(evs) == 0 {
		fmt.Fprintf(m.Stdout, "no %s events\n", safetext.Visible(*status))
	}
	return nil
}

// runWebhookReplay queues dead, orphan or conflicting events to be applied
// again by the running daemon (within its applier's next pass), and says
// for each other id why it was not queued.
func (m *Main) runWebhookReplay(ctx context.Context, args []string) error {
	fs := m.newFlags("webhook replay")
	path := fs.String("config", config.DefaultPath, "configuration file")
	args, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usageError{"webhook replay: give the ids of the events to replay (see webhook list)"}
	}
	ids := make([]int64, 0, len(args))
	for _, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return usageError{fmt.Sprintf("webhook replay: %q is not an event id", a)}
		}
		ids = append(ids, id)
	}
	st, err := m.openState(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	before, err := st.EventStatuses(ctx, ids)
	if err != nil {
		return err
	}
	n, err := st.ReplayEvents(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if why := notReplayed(before, id); why != "" {
			fmt.Fprintf(m.Stdout, "event %d: %s\n", id, why)
		}
	}
	fmt.Fprintf(m.Stdout, "%d of %d event(s) queued to be applied again\n", n, len(ids))
	return nil
}

// notReplayed says why replay leaves event id alone, given the statuses
// before the replay; "" when it was queued.
func notReplayed(statuses map[int64]string, id int64) string {
	status, ok := statuses[id]
	switch {
	case !ok:
		return "no such event (see webhook list --status all)"
	case status == vocab.EventApplied:
		return "already applied; its outcome is recorded, nothing to replay"
	case status == vocab.EventDuplicate:
		return "a duplicate of an outcome already recorded; nothing to replay"
	case status == vocab.EventPending:
		return "already queued; the running daemon applies it in its next pass"
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
