package output

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteStatusFile writes v as one line of JSON to path, atomically
// (WriteFileAtomic) and readable by the daemon's group (0640): the small
// files in state_dir through which a running daemon tells `status` what
// only it knows (current problems, bucket listings).
func WriteStatusFile(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(data, '\n'), 0o640)
}

// ReadStatusFile reads into v the file WriteStatusFile wrote at path, and
// reports false (v untouched) when there is none. A file that is not such
// JSON is an error naming it.
func ReadStatusFile(path string, v any) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return true, nil
}
