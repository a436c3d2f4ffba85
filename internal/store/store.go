// Package store owns the daemon's durable state: one SQLite database (WAL
// mode) holding every document, batch, journaled webhook event and CSV commit
// offset, and the document state machine over them.
//
// Every transition is one transaction, and callers follow one rule: write the
// intention before the side effect and the result after it, so that a
// process killed at any line resumes from the database alone. The store does
// no I/O besides SQL; it does not talk to the API, watch files or write
// outputs.
//
// The SQL is kept portable (no SQLite-only syntax beyond the driver name and
// pragmas) so that a PostgreSQL backend can share it for the scale-out path.
// Two measured exceptions say so where they are: the webhook journal's
// transaction on the raw driver (rawTx, BEGIN IMMEDIATE) and migration 009's
// unhex().
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

//go:embed migrations/*.up.sql
var migrationFS embed.FS

// ErrNotFound is returned when a requested row does not exist.
var ErrNotFound = errors.New("not found")

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
	// OnTransition, when set, is called after every committed document
	// transition, outside the transaction. It must not block for long.
	OnTransition func(Transition)
	// OnEvent, when set, is told the status each journaled webhook event
	// took when it was applied (applied, duplicate, conflict, orphan, dead),
	// after the commit. It must not block for long.
	OnEvent func(status string)
	// OnJournaled, when set, is told after a commit that left webhook
	// events pending how many: new deliveries stored by JournalEvents, and
	// early events (orphans) queued again by RecordSubmission once their
	// document or batch is known. It wakes the applier. It must not block
	// for long.
	OnJournaled func(n int)

	// window, set only by tests, replaces recentWindow.
	window int
}

func (o Options) recentWindow() int {
	if o.window > 0 {
		return o.window
	}
	return recentWindow
}

// Store is the SQLite-backed state store. It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // the single writer connection
	r    *sql.DB // read-only pool
	// prepared holds the writer's statements of hotQueries, by query
	// (prepareHot); read-only once Open returns.
	prepared map[string]*sql.Stmt
	reads    readStmts // the read pool's per-pass statements (readQuery)
	opts     Options
	// installID prefixes client references so two installations never
	// produce the same reference against one API account.
	installID string

	journalMu sync.Mutex  // one JournalEvents at a time: the check and the insert of a key are one step
	recent    *recentKeys // guarded by journalMu; loaded by the first JournalEvents
}

// Open opens (creating if needed) the database at path and applies pending
// migrations.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	return open(ctx, path, opts, math.MaxInt)
}

// open is Open applying migrations up to version upTo only (tests of a
// migration start from the version before it).
func open(ctx context.Context, path string, opts Options, upTo int) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	dsn := func(extra string) string {
		q := url.Values{}
		for _, p := range []string{
			"journal_mode(WAL)",
			"busy_timeout(10000)",
			"foreign_keys(ON)",
			// FULL: a webhook acknowledged with 200 must survive power
			// loss, not only a process crash.
			"synchronous(FULL)",
		} {
			q.Add("_pragma", p)
		}
		if extra != "" {
			q.Add("_txlock", extra)
		}
		return "file:" + abs + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn("immediate"))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One writer connection: SQLite allows one writer at a time, and a
	// pool of writers only turns that into SQLITE_BUSY retries (most
	// visibly under -race). Transactions queue on database/sql instead.
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn("")+"&mode=ro")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s := &Store{path: abs, w: w, r: r, opts: opts}
	if err := s.migrate(ctx, upTo); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.loadInstallID(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.prepareHot(ctx)

	return s, nil
}

// Path returns the database file's absolute path.
func (s *Store) Path() string { return s.path }

// Close closes the database. It is safe to call twice.
func (s *Store) Close() error {
	s.closePrepared()
	s.closeReads()
	err := s.r.Close()
	if werr := s.w.Close(); werr != nil {
		err = werr
	}
	return err
}

// Ping checks that the store answers and is writable.
func (s *Store) Ping(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE meta SET value = value WHERE key = 'install_id'`)
		return err
	})
}

func (s *Store) migrate(ctx context.Context, upTo int) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.up.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	if err := s.refuseNewerSchema(ctx, names); err != nil {
		return err
	}
	for _, name := range names {
		base := filepath.Base(name)
		v, err := migrationVersion(base)
		if err != nil {
			return err
		}
		if v > upTo {
			break
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		err = s.tx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, v).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", base, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, s.now())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// migrationVersion reads a migration file's version from its name.
func migrationVersion(base string) (int, error) {
	v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
	if err != nil {
		return 0, fmt.Errorf("migrate: bad migration name %s", base)
	}
	return v, nil
}

// refuseNewerSchema refuses a database a newer docuparse-ingest has
// migrated past this binary's last migration (names, sorted): an older
// binary would read columns the newer schema no longer fills (a
// completed document's result, moved to its own table, would be exported
// empty, once and for good) and leave its counts behind.
func (s *Store) refuseNewerSchema(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	known, err := migrationVersion(filepath.Base(names[len(names)-1]))
	if err != nil {
		return err
	}
	var have sql.NullInt64
	if err := s.w.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if have.Int64 > int64(known) {
		return fmt.Errorf("the state database is at schema version %d, newer than this docuparse-ingest knows (%d): "+
			"a newer version wrote it; run that version again (going back to an older one is not supported)", have.Int64, known)
	}
	return nil
}

func (s *Store) loadInstallID(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'install_id'`).Scan(&s.installID)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		s.installID = randomHex(4)
		_, err = tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('install_id', ?)`, s.installID)
		return err
	})
}

// rawConn is what rawTx needs of the writer connection's driver.
type rawConn interface {
	driver.ConnPrepareContext
	driver.ExecerContext
}

// rawTx runs fn in one write transaction on the writer connection's
// driver, committing when fn returns nil. It exists for the webhook
// journal: database/sql starts a goroutine per transaction and per result
// set to watch the context, and at thousands of group commits a second
// those, with their wake-ups, cost more CPU than the inserts
// (docs/benchmarks.md). Everything else uses tx.
//
// ctx is checked before the transaction begins and passed to fn; BEGIN,
// COMMIT and ROLLBACK themselves run to completion. The driver reports
// ctx.Err() for a statement during which ctx ended even when the statement
// succeeded, so a cancelled BEGIN could leave the only writer connection
// inside a transaction, and a cancelled COMMIT report a commit that
// happened as failed.
func (s *Store) rawTx(ctx context.Context, fn func(rawConn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	whole := context.WithoutCancel(ctx)
	return conn.Raw(func(dc any) error {
		c, ok := dc.(rawConn)
		if !ok {
			return fmt.Errorf("sqlite driver connection %T lacks ExecContext or PrepareContext", dc)
		}
		if _, err := c.ExecContext(whole, "BEGIN IMMEDIATE", nil); err != nil {
			return err
		}
		err := fn(c)
		if err == nil {
			if _, err = c.ExecContext(whole, "COMMIT", nil); err == nil {
				return nil
			}
		}
		// A failed COMMIT (busy) leaves the transaction open too; an
		// interrupted statement may have made SQLite roll it back
		// already. A connection that cannot roll back for another reason
		// is handed back as bad, so that database/sql closes it instead of
		// reusing it inside a transaction.
		if _, rerr := c.ExecContext(whole, "ROLLBACK", nil); rerr != nil && !strings.Contains(rerr.Error(), "no transaction is active") {
			return errors.Join(err, driver.ErrBadConn)
		}
		return err
	})
}

// tx runs fn in one write transaction, committing when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// timeLayout is fixed-width so that times sort and compare as text.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func (s *Store) now() string { return formatTime(s.opts.Now()) }

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(v sql.NullString) time.Time {
	if !v.Valid || v.String == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, v.String)
	if err != nil {
		return time.Time{}
	}
	return t
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// NewIdempotencyKey returns a fresh key for a submit request: printable
// ASCII, well under the API's 255-character limit, unique per installation.
func (s *Store) NewIdempotencyKey() string {
	return "dpi-" + s.installID + "-" + randomHex(12)
}

func nullString(v string) sql.NullString {
	return sql.NullString{String: v, Valid: v != ""}
}

// Meta returns a value of the store's key-value table, and false when the
// key was never set.
func (s *Store) Meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", key, err)
	}
	return v, true, nil
}

// SetMeta sets a value of the store's key-value table.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	return nil
}

// FirstDiscovered returns when the first document was discovered, and
// false when there is none.
func (s *Store) FirstDiscovered(ctx context.Context) (time.Time, bool, error) {
	var v sql.NullString
	if err := s.r.QueryRowContext(ctx, `SELECT MIN(discovered_at) FROM documents`).Scan(&v); err != nil {
		return time.Time{}, false, fmt.Errorf("first discovered: %w", err)
	}
	return parseTime(v), v.Valid, nil
}
