package export_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/bulwarkhq/bulwark/export"
)

// contacts is a host module: a slice standing in for a database query.
type contacts [][]string

func (contacts) Columns() []string { return []string{"subject", "name", "formula"} }

func (c contacts) Records(_ context.Context, s export.Scope) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for _, r := range c {
			if s.Subject != "" && r[0] != s.Subject {
				continue
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// A user downloads their own contacts as CSV: one subject, one module, no
// archive. The formula cell is neutralised.
func Example() {
	ex, err := export.New(export.Config{}) // a zero Config means the defaults
	if err != nil {
		panic(err)
	}
	_ = ex.Register("contacts", contacts{
		{"u1", "Ada", "=1+1"},
		{"u2", "Bob", "plain"},
	})
	var csv bytes.Buffer
	_, err = ex.Export(context.Background(), &csv, export.Request{
		Scope:   export.Scope{Tenant: "acme", Subject: "u1"},
		Modules: []string{"contacts"},
		Archive: export.Plain,
	})
	// RFC 4180 lines end in CRLF; shown here as plain line breaks.
	fmt.Print(strings.ReplaceAll(csv.String(), "\r\n", "\n"))
	fmt.Println(err)
	// Output:
	// subject,name,formula
	// u1,Ada,'=1+1
	// <nil>
}

// A tenant backup encrypted to an age recipient, verified and read back.
func ExampleExporter_Verify() {
	ex, _ := export.New(export.Config{})
	_ = ex.Register("contacts", contacts{{"u1", "Ada", "=1+1"}, {"u2", "Bob", "plain"}})
	id, _ := age.GenerateX25519Identity()

	var backup bytes.Buffer
	_, _ = ex.Export(context.Background(), &backup, export.Request{
		Scope:      export.Scope{Tenant: "acme"},
		Recipients: []age.Recipient{id.Recipient()},
		Armor:      true,
	})
	fmt.Println(strings.SplitN(backup.String(), "\n", 2)[0])

	m, err := ex.Verify(context.Background(), &backup, export.ReadOptions{Identities: []age.Identity{id}})
	fmt.Println(err, m.Modules[0].File, m.Modules[0].Rows, "rows")

	_, err = ex.Verify(context.Background(), bytes.NewReader(nil), export.ReadOptions{})
	fmt.Println(err != nil)
	// Output:
	// -----BEGIN AGE ENCRYPTED FILE-----
	// <nil> contacts.csv 2 rows
	// true
}

// restored is a module that can take records back: it keeps what it is
// given only when the sequence ends cleanly.
type restored struct{ rows [][]string }

func (*restored) Columns() []string { return []string{"subject", "name", "formula"} }

func (*restored) Records(context.Context, export.Scope) iter.Seq2[[]string, error] {
	return func(func([]string, error) bool) {}
}

func (r *restored) Import(_ context.Context, _ export.Scope, _ []string, recs iter.Seq2[[]string, error]) error {
	var rows [][]string
	for rec, err := range recs {
		if err != nil {
			return err
		}
		rows = append(rows, slices.Clone(rec)) // rec is reused after yield
	}
	r.rows = append(r.rows, rows...)
	return nil
}

// A passphrase backup restored into a new tenant: ImportVerified checks
// the whole archive before any record is imported, and runs scrypt once.
func ExampleExporter_ImportVerified() {
	src, _ := export.New(export.Config{ScryptWorkFactor: 10}) // cheap for the example; keep the default
	_ = src.Register("contacts", contacts{{"u1", "Ada", "=1+1"}, {"u2", "Bob", "plain"}})
	var backup bytes.Buffer
	_, _ = src.Export(context.Background(), &backup, export.Request{Scope: export.Scope{Tenant: "acme"}, Passphrase: "a long passphrase"})

	dst, _ := export.New(export.Config{})
	into := &restored{}
	_ = dst.Register("contacts", into)
	_, err := dst.ImportVerified(context.Background(), bytes.NewReader(backup.Bytes()), export.ReadOptions{Passphrase: "a long passphrase"}, export.Scope{Tenant: "acme-restored"})
	fmt.Println(err, into.rows)

	damaged := bytes.Clone(backup.Bytes())
	damaged[len(damaged)-1] ^= 1
	_, err = dst.ImportVerified(context.Background(), bytes.NewReader(damaged), export.ReadOptions{Passphrase: "a long passphrase"}, export.Scope{Tenant: "other"})
	fmt.Println(errors.Is(err, export.ErrCorrupt), len(into.rows))
	// Output:
	// <nil> [[u1 Ada =1+1] [u2 Bob plain]]
	// true 2
}
