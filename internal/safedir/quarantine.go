package safedir

import (
	"strconv"
	"strings"
)

// QuarantinePrefix begins the name a file is renamed to, in its own
// folder, while an after-action deletes it (internal/export): the rename
// comes first, then the check that the file is the one taken in, then the
// unlink. The folder source never offers a name with this prefix, whatever
// its include and exclude patterns say.
const QuarantinePrefix = ".docuparse-deleting-"

// QuarantineName returns the quarantine name of document id's file.
func QuarantineName(id int64) string {
	return QuarantinePrefix + strconv.FormatInt(id, 10)
}

// IsQuarantineName reports whether name is a quarantine name, which intake
// must never take in.
func IsQuarantineName(name string) bool { return strings.HasPrefix(name, QuarantinePrefix) }
