// Command exportexample writes a large, age-encrypted tenant export of
// synthetic rows to a file, then verifies it, streaming both ways. Run it
// under /usr/bin/time -v to see that peak memory does not grow with the
// export's size:
//
//	go build -o /tmp/exportexample ./examples/exportexample
//	/usr/bin/time -v /tmp/exportexample -bytes 1073741824 -out /tmp/big.tar.age
//
// With no flags it writes about 1 MiB to a temporary directory.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"filippo.io/age"

	"github.com/bulwarkhq/bulwark/export"
)

func main() {
	size := flag.Int64("bytes", 1<<20, "approximate size of the export")
	out := flag.String("out", "", "output file (default: a temporary directory)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *size, *out); err != nil {
		fmt.Fprintln(os.Stderr, "exportexample:", err)
		os.Exit(1)
	}
}

// rowBytes is the size of one synthetic CSV row.
const rowBytes = 80

// synthetic yields rows of about rowBytes bytes, generated on the fly so
// the source itself holds nothing.
type synthetic struct{ rows int64 }

func (synthetic) Columns() []string { return []string{"id", "name", "email", "note"} }

func (s synthetic) Records(ctx context.Context, _ export.Scope) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		rec := make([]string, 4)
		var id []byte
		for i := range s.rows {
			id = strconv.AppendInt(id[:0], 1_000_000_000+i, 10)
			rec[0] = string(id)
			rec[1] = "Customer Name"
			rec[2] = "customer" + rec[0][6:] + "@example.com"
			rec[3] = "a note about this customer, with a comma"
			if !yield(rec, nil) {
				return
			}
		}
	}
}

func run(ctx context.Context, w io.Writer, size int64, out string) error {
	if out == "" {
		dir, err := os.MkdirTemp("", "bulwark-export-")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		out = filepath.Join(dir, "export.tar.age")
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	ex, err := export.New(export.Config{TempDir: filepath.Dir(out)})
	if err != nil {
		return err
	}
	if err := ex.Register("customers", synthetic{rows: size / rowBytes}); err != nil {
		return err
	}
	m, err := ex.ExportFile(ctx, out, export.Request{
		Scope:      export.Scope{Tenant: "acme"},
		Recipients: []age.Recipient{id.Recipient()},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "exported %d rows, %d bytes of CSV\n", m.Modules[0].Rows, m.Modules[0].Bytes)

	f, err := os.Open(out)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := ex.Verify(ctx, f, export.ReadOptions{Identities: []age.Identity{id}}); err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(w, "verified; Go heap in use %d MiB, total from the OS %d MiB\n", ms.HeapInuse>>20, ms.Sys>>20)
	return nil
}
