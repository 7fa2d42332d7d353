package export_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"filippo.io/age"

	"github.com/bulwarkhq/bulwark/export"
)

// typedReadError reports whether err is one of the errors a read of bad
// input may return.
func typedReadError(err error) bool {
	for _, want := range []error{export.ErrCorrupt, export.ErrManifestMismatch, export.ErrUnknownVersion, export.ErrWrongKey, export.ErrNotEncrypted} {
		if errors.Is(err, want) {
			return true
		}
	}
	return false
}

// fuzzFixture is shared by fuzz iterations: registration is done once.
func fuzzSeeds(f *testing.F, fx *fixture, reqs ...export.Request) {
	for _, req := range reqs {
		req.Tenant = "t1"
		var buf bytes.Buffer
		if _, err := fx.ex.Export(context.Background(), &buf, req); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
}

func FuzzReadArchive(f *testing.F) {
	fx := newFixture(f, export.Config{MaxRecordBytes: 1 << 16})
	fuzzSeeds(f, fx,
		export.Request{},
		export.Request{Archive: export.Zip},
		export.Request{Format: export.JSONLines, BOM: true},
		export.Request{Format: export.JSONLines, Archive: export.Zip})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := fx.ex.Verify(context.Background(), bytes.NewReader(data), export.ReadOptions{})
		if err != nil && !typedReadError(err) {
			t.Fatalf("untyped error: %v", err)
		}
	})
}

func FuzzDecrypt(f *testing.F) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		f.Fatal(err)
	}
	fx := newFixture(f, export.Config{})
	fuzzSeeds(f, fx,
		export.Request{Recipients: []age.Recipient{id.Recipient()}},
		export.Request{Recipients: []age.Recipient{id.Recipient()}, Armor: true})
	f.Add([]byte("age-encryptioN.org/v1\n-> X25519 abc\n--- def\n"))
	f.Add([]byte("-----BEGIN AGE ENCRYPTED FILf-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n"))
	keys := export.ReadOptions{Identities: []age.Identity{id}}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := fx.ex.Verify(context.Background(), bytes.NewReader(data), keys)
		if err != nil && !typedReadError(err) {
			t.Fatalf("untyped error: %v", err)
		}
		if errors.Is(err, export.ErrDamagedHeader) && (!errors.Is(err, export.ErrCorrupt) || errors.Is(err, export.ErrNotEncrypted)) {
			t.Fatalf("a damaged header must be ErrCorrupt and not ErrNotEncrypted: %v", err)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"format":"bulwark-export","schema_version":1,"tenant":"t","file_format":"csv","modules":[{"name":"a","file":"a.csv","columns":["x"],"rows":1,"bytes":5,"sha256":"` +
		"00000000000000000000000000000000000000000000000000000000000000ff" + `"}]}`))
	f.Add([]byte(`{"format":"bulwark-export","schema_version":2}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := export.ParseManifest(data)
		if err != nil {
			if !typedReadError(err) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if len(m.Modules) == 0 || m.Tenant == "" {
			t.Fatalf("accepted an incomplete manifest: %+v", m)
		}
	})
}
