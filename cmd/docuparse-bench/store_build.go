package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// storeGroup is how many files the store builder writes and records at
// once: one IntakeMany, one journal commit and one ApplyEvents, one
// MarkExported per group, and a batch of batchFiles files each.
const (
	storeGroup = 2000
	batchFiles = 100 // batch.max_files' largest value
)

// storeSource is the folder source's name in the built store and in the
// measured daemon's configuration.
const storeSource = "inbox"

// treeSeed is the seed of the folder's documents (samples.WriteTree).
const treeSeed = 14

// resultData returns the API's extraction result for document i of the
// tree, as the simulator would report it.
func resultData(i int) (json.RawMessage, error) {
	name := filepath.Base(samples.TreeFile(i, 1))
	inv, err := samples.Parse(name, samples.TreeDocument(i, treeSeed))
	if err != nil {
		return nil, err
	}
	return json.Marshal(inv.Data())
}

// buildStore writes n files into inbox (samples.WriteTree, perDir per
// subfolder) and records
// each, through the store's own API, as a document taken in, submitted in
// a batch, completed by a journaled webhook and exported: the state a
// daemon leaves after taking in the folder. Each file's access time is set
// an hour before its modification time, so that any later read of it
// moves its atime (relatime) and shows as a re-read. The documents' times
// are spread over the days before today.
func buildStore(ctx context.Context, statePath, inbox string, n, perDir, days int) error {
	// A folder written whole by an earlier invocation is kept.
	written := inbox + ".written"
	if _, err := os.Stat(written); err != nil {
		if err := samples.WriteTree(inbox, n, perDir, treeSeed); err != nil {
			return err
		}
		if err := os.WriteFile(written, nil, 0o640); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(statePath), 0o750); err != nil {
		return err
	}
	// The store's clock: the groups are taken in, completed and exported
	// spread evenly over the days before today, as by a daemon that has
	// run that long (so "today" in status holds what one day holds).
	end := time.Now().UTC().Truncate(24 * time.Hour)
	begin := end.Add(-time.Duration(days) * 24 * time.Hour)
	step := end.Sub(begin) / time.Duration((n+storeGroup-1)/storeGroup)
	var clock time.Time
	st, err := store.Open(ctx, statePath, store.Options{Now: func() time.Time { return clock }})
	if err != nil {
		return err
	}
	defer st.Close()
	mtime := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	for start := 0; start < n; start += storeGroup {
		clock = begin.Add(time.Duration(start/storeGroup) * step)
		files, err := statGroup(inbox, start, min(storeGroup, n-start), perDir, mtime)
		if err != nil {
			return err
		}
		plan, err := planGroup(files, start)
		if err != nil {
			return err
		}
		if err := recordGroup(ctx, st, files, plan); err != nil {
			return err
		}
	}
	// Every day before today was reported, as by that daemon's reporter.
	return st.SetMeta(ctx, "last_report_day", end.Add(-24*time.Hour).Format("2006-01-02"))
}

// statGroup sets the times of files start … start+count-1 (the access
// time an hour before mtime) and returns them as intake would hand them to
// the store: stat after the last change, SHA-256 of their content.
func statGroup(inbox string, start, count, perDir int, mtime time.Time) ([]store.NewFile, error) {
	out := make([]store.NewFile, 0, count)
	for i := start; i < start+count; i++ {
		path := filepath.Join(inbox, samples.TreeFile(i, perDir))
		if err := os.Chtimes(path, mtime.Add(-time.Hour), mtime); err != nil {
			return nil, err
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return nil, err
		}
		dev, ino, ctime := safedir.ID(fi)
		sum := sha256.Sum256(samples.TreeDocument(i, treeSeed))
		out = append(out, store.NewFile{Source: storeSource, Path: path, FileName: fi.Name(), Size: fi.Size(),
			ModTime: fi.ModTime(), FileID: store.FileID{Dev: dev, Inode: ino, ChangeTime: ctime},
			SHA256: hex.EncodeToString(sum[:]), Dedupe: true})
	}
	return out, nil
}

// batchPlan is what the API answers for one batch of a group of files,
// made before the store records any of it: its answer to the upload and
// the webhooks that follow.
type batchPlan struct {
	apiBatch string
	answer   json.RawMessage       // the API's answer to the upload
	docIDs   []string              // the API's document ids, in the batch's order
	events   []store.IncomingEvent // a document.completed each, then the batch.completed
}

// planGroup makes the API's side of files start … start+len(files)-1: ids,
// upload answers, one document.completed webhook each and a
// batch.completed per batch.
func planGroup(files []store.NewFile, start int) ([]batchPlan, error) {
	var plan []batchPlan
	ts := time.Now().UTC().Format(time.RFC3339) // the API's clock, not the store's
	for b := 0; b < len(files); b += batchFiles {
		first, part := start+b, files[b:min(b+batchFiles, len(files))]
		bp := batchPlan{apiBatch: fmt.Sprintf("bat_bench_%08d", first/batchFiles)}
		resp := docuparse.BatchResponse{BatchID: bp.apiBatch, Status: "processing"}
		for i, f := range part {
			docID := fmt.Sprintf("doc_bench_%08d", first+i)
			bp.docIDs = append(bp.docIDs, docID)
			resp.Documents = append(resp.Documents, docuparse.BatchDocument{DocumentID: docID, Filename: f.FileName,
				ClientReference: fmt.Sprint("ref-", first+i), Status: "queued"})
			data, err := resultData(first + i)
			if err != nil {
				return nil, err
			}
			body, err := json.Marshal(docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: docID,
				BatchID: bp.apiBatch, Timestamp: ts, Data: data})
			if err != nil {
				return nil, err
			}
			bp.events = append(bp.events, receiver.Identify(body, ""))
		}
		raw, err := json.Marshal(resp)
		if err != nil {
			return nil, err
		}
		summary, err := batchCompleted(bp.apiBatch, len(part), ts)
		if err != nil {
			return nil, err
		}
		bp.answer, bp.events = raw, append(bp.events, summary)
		plan = append(plan, bp)
	}
	return plan, nil
}

// recordGroup records files as the daemon's parts do, each step through
// the method that part calls: intake takes them in, the submitter records
// each batch of plan (CreateBatch, MarkSent, RecordSubmission with the
// API's answer), the receiver journals the webhooks, the applier applies
// them, the exporter marks the documents exported.
func recordGroup(ctx context.Context, st *store.Store, files []store.NewFile, plan []batchPlan) error {
	res, err := st.IntakeMany(ctx, files)
	if err != nil {
		return err
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		if r.State != store.StateQueued {
			return fmt.Errorf("%s: taken in as %q, want queued", files[i].Path, r.State)
		}
		ids[i] = r.ID
	}
	var events []store.IncomingEvent
	for i, bp := range plan {
		part := ids[i*batchFiles : min((i+1)*batchFiles, len(ids))]
		b, err := st.CreateBatch(ctx, store.ModeBatch, part)
		if err != nil {
			return err
		}
		if err := st.MarkSent(ctx, b.ID); err != nil {
			return err
		}
		subs := make([]store.Submitted, len(part))
		for j, id := range part {
			subs[j] = store.Submitted{DocID: id, DocumentID: bp.docIDs[j]}
		}
		if _, err := st.RecordSubmission(ctx, b.ID, bp.apiBatch, bp.answer, subs); err != nil {
			return err
		}
		events = append(events, bp.events...)
	}
	if _, err := st.JournalEvents(ctx, events); err != nil {
		return err
	}
	if err := applyPending(ctx, st, len(events)); err != nil {
		return err
	}
	return st.MarkExported(ctx, ids, nil)
}

// batchCompleted is the batch.completed webhook of a batch whose n
// documents all completed: once applied, the batch's own counts agree
// with it and the poller never asks the API about it.
func batchCompleted(apiBatch string, n int, ts string) (store.IncomingEvent, error) {
	body, err := json.Marshal(docuparse.Event{Event: docuparse.EventBatchCompleted, BatchID: apiBatch, Timestamp: ts,
		Summary: &docuparse.Summary{Total: n, Succeeded: n}})
	return receiver.Identify(body, ""), err
}

// applyPending applies the n pending events as the applier does: read,
// parse, apply in one transaction.
func applyPending(ctx context.Context, st *store.Store, n int) error {
	pending, err := st.PendingEvents(ctx, n)
	if err != nil {
		return err
	}
	actions := make([]store.EventAction, len(pending))
	for i, p := range pending {
		ev := receiver.ParseEvent(p.Body)
		if ev.Result == nil && ev.Summary == nil {
			return fmt.Errorf("event %d: not a result nor a batch summary (%s)", p.ID, ev.Dead)
		}
		actions[i] = store.EventAction{EventID: p.ID, Result: ev.Result, Summary: ev.Summary}
	}
	applied, err := st.ApplyEvents(ctx, actions)
	if err != nil {
		return err
	}
	if applied != len(actions) {
		return fmt.Errorf("applied %d of %d events", applied, len(actions))
	}
	return nil
}
