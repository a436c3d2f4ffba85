// Package storefault makes a real SQLite state store fail on purpose, for
// tests: a trigger added through a second connection to the same file
// aborts the chosen writes with an error, as a full disk, an I/O error or
// a lock held too long would, until it is healed. Nothing in the store is
// mocked; its own code sees a real SQLite error.
package storefault

import (
	"database/sql"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"

	_ "modernc.org/sqlite" // the store's driver
)

// Message is the error text every injected failure carries.
const Message = "injected store failure"

var seq atomic.Int64

// Fault is one injected failure; Heal removes it.
type Fault struct {
	t    testing.TB
	db   *sql.DB
	name string
	done bool
}

// Break makes every write to table that matches the trigger event (for
// example "INSERT", "UPDATE OF state") and, when non-empty, the condition
// when (SQL over NEW and OLD) fail with Message. The fault is healed when
// the test ends, if not before.
func Break(t testing.TB, dbPath, table, event, when string) *Fault {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?"+url.Values{"_pragma": {"busy_timeout(10000)"}}.Encode())
	if err != nil {
		t.Fatalf("storefault: open %s: %v", dbPath, err)
	}
	f := &Fault{t: t, db: db, name: fmt.Sprintf("storefault_%d", seq.Add(1))}
	cond := ""
	if when != "" {
		cond = " WHEN " + when
	}
	stmt := fmt.Sprintf(`CREATE TRIGGER %s BEFORE %s ON %s FOR EACH ROW%s BEGIN SELECT RAISE(ABORT, '%s'); END`,
		f.name, event, table, cond, Message)
	if _, err := db.Exec(stmt); err != nil {
		db.Close()
		t.Fatalf("storefault: %s: %v", stmt, err)
	}
	t.Cleanup(f.Heal)
	return f
}

// Heal removes the fault: the writes it failed succeed again. Safe to call
// twice.
func (f *Fault) Heal() {
	if f.done {
		return
	}
	f.done = true
	defer f.db.Close()
	if _, err := f.db.Exec(`DROP TRIGGER IF EXISTS ` + f.name); err != nil {
		f.t.Errorf("storefault: heal %s: %v", f.name, err)
	}
}
