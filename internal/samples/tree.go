package samples

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
)

// treeWriters is how many goroutines WriteTree runs: creating small files is
// bound by the file system's metadata work, not the CPU, so a few more
// writers than cores keep it busy.
const treeWriters = 8

// TreeDirs returns how many subfolders WriteTree makes for files documents,
// perDir to a folder: ceil(files/perDir), 0 when files <= 0.
func TreeDirs(files, perDir int) int {
	if files <= 0 || perDir <= 0 {
		return 0
	}
	return (files + perDir - 1) / perDir
}

// TreeFile returns the path, relative to the tree's root, of document i
// (0-based) in a tree made by WriteTree with perDir documents a folder:
// "d00012/doc-0006001.csv".
func TreeFile(i, perDir int) string {
	return filepath.Join(fmt.Sprintf("d%05d", i/perDir), fmt.Sprintf("doc-%07d.csv", i))
}

// WriteTree writes files small sample CSV documents under dir, perDir to a
// subfolder, in TreeDirs(files, perDir) subfolders named as TreeFile says. Every
// document is distinct (its invoice_id holds its index), valid for Parse,
// none carries FailMarker, and the content is the same for the same index and
// seed. dir is created if missing; existing documents are overwritten, so a
// half-written tree can be completed by calling again. Subfolders are written
// in parallel, so a million documents take about as long as the file system
// needs to create them.
func WriteTree(dir string, files, perDir int, seed int64) error {
	if files < 0 || perDir <= 0 {
		return fmt.Errorf("samples: tree of %d files, %d a folder: both must be positive", files, perDir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dirs := make(chan int)
	errs := make([]error, treeWriters)
	var stop sync.Once
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range treeWriters {
		wg.Go(func() {
			for d := range dirs {
				if err := writeTreeDir(dir, d, files, perDir, seed); err != nil {
					errs[w] = err
					stop.Do(func() { close(done) })
					return
				}
			}
		})
	}
feed:
	for d := range TreeDirs(files, perDir) {
		select {
		case dirs <- d:
		case <-done:
			break feed
		}
	}
	close(dirs)
	wg.Wait()
	return errors.Join(errs...)
}

// writeTreeDir writes subfolder d of a tree: documents d*perDir up to the
// next folder's first or files, whichever comes first.
func writeTreeDir(root string, d, files, perDir int, seed int64) error {
	first := d * perDir
	if err := os.MkdirAll(filepath.Join(root, filepath.Dir(TreeFile(first, perDir))), 0o755); err != nil {
		return err
	}
	for i := first; i < min(first+perDir, files); i++ {
		if err := os.WriteFile(filepath.Join(root, TreeFile(i, perDir)), TreeDocument(i, seed), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// TreeDocument returns the content of document i of a tree written with seed:
// a one-page sample CSV whose invoice_id ("TREE-<seed>-<i>") makes it unique.
func TreeDocument(i int, seed int64) []byte {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
	inv := generateInvoice(rng, i)
	inv.InvoiceID = fmt.Sprintf("TREE-%d-%07d", seed, i)
	return RenderCSV(inv)
}
