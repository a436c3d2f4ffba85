package store

import (
	"context"
	"database/sql"
	"fmt"
)

// SeedExported records files as documents that were taken in, ended
// (rejected, code and message as given) and exported, in one transaction
// and without transition notices. It is for benchmarks and load tools
// that need a store already holding many documents — the state a source
// reaches after its first pass — which one transaction per file (Intake,
// Reject) takes minutes to build at 100,000 files. The daemon never calls
// it.
func (s *Store) SeedExported(ctx context.Context, files []NewFile, code, message string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		docs := make([]Document, 0, len(files))
		for _, f := range files {
			id, err := s.insertDocument(ctx, tx, f, StateRejected, sql.NullInt64{}, code, message)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE documents SET state = 'exported', exported_at = ? WHERE id = ?`, now, id); err != nil {
				return err
			}
			docs = append(docs, Document{Source: f.Source, Outcome: StateRejected})
		}
		return s.countExportedTx(ctx, tx, docs)
	})
	if err != nil {
		return fmt.Errorf("seed %d documents: %w", len(files), err)
	}
	return nil
}
