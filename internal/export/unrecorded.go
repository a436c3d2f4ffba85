package export

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/docuparse/docuparse-ingest/internal/output"
)

// ErrUnrecordedOutputs is wrapped by CheckOutputs' error.
var ErrUnrecordedOutputs = errors.New("output_dir holds CSV files the state database has no record of")

// CheckOutputs returns an error wrapping ErrUnrecordedOutputs, naming the
// files and how to recover, when the CSV folder of the output directory
// holds a file with content that st has no record of: the state database
// was lost, replaced or reset while the outputs were kept. The daemon
// refuses to start then rather than decide alone: appending to those files
// would mix two databases' rows (every document still in an inbox is taken
// in and sent again), and cutting them would destroy exported rows.
func CheckOutputs(ctx context.Context, st CSVReader, l output.Layout) error {
	dir := filepath.Join(l.Root, "csv")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check outputs: %w", err)
	}
	var unknown []string
	for _, ent := range entries {
		if !ent.Type().IsRegular() || !strings.HasSuffix(ent.Name(), ".csv") {
			continue
		}
		info, err := ent.Info()
		if err != nil || info.Size() == 0 {
			continue
		}
		rel := path.Join("csv", ent.Name())
		if _, known, err := st.CSVState(ctx, rel); err != nil {
			return fmt.Errorf("check outputs: %w", err)
		} else if !known {
			unknown = append(unknown, filepath.Join(dir, ent.Name()))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	list := strings.Join(unknown[:min(len(unknown), 3)], ", ")
	if len(unknown) > 3 {
		list += fmt.Sprintf(" and %d more", len(unknown)-3)
	}
	return fmt.Errorf("%w: %s. The daemon never cuts or appends to a CSV file it has no record of. "+
		"If state.db was lost or replaced, stop and restore state.db and the output directory from the same backup; "+
		"to start afresh instead, move the old CSV files aside (mv %s %s.old) and start again",
		ErrUnrecordedOutputs, list, dir, dir)
}
