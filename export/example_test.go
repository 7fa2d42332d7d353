package export_test

import (
	"bytes"
	"context"
	"fmt"
	"iter"
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
	ex := export.New(export.Config{})
	_ = ex.Register("contacts", contacts{
		{"u1", "Ada", "=1+1"},
		{"u2", "Bob", "plain"},
	})
	var csv bytes.Buffer
	_, err := ex.Export(context.Background(), &csv, export.Request{
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
	ex := export.New(export.Config{})
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
