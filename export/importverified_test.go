package export_test

import (
	"bytes"
	"context"
	"os"
	"sync/atomic"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// countingIdentity counts the header unwraps (for a passphrase, the
// scrypt computations) done with it.
type countingIdentity struct {
	id age.Identity
	n  atomic.Int64
}

func (c *countingIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	c.n.Add(1)
	return c.id.Unwrap(stanzas)
}

// TestImportVerifiedScryptOnce: ImportVerified decrypts a passphrase
// archive once; Verify then Import pays for scrypt twice.
func TestImportVerifiedScryptOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	var buf bytes.Buffer
	_, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}, Passphrase: "correct horse battery staple"})
	require.NoError(t, err)
	sid, err := age.NewScryptIdentity("correct horse battery staple")
	require.NoError(t, err)

	g := newFixture(t, export.Config{})
	once := &countingIdentity{id: sid}
	m, err := g.ex.ImportVerified(context.Background(), bytes.NewReader(buf.Bytes()), export.ReadOptions{Identities: []age.Identity{once}}, export.Scope{Tenant: "t2"})
	require.NoError(t, err)
	require.Len(t, m.Modules, 2)
	require.Equal(t, int64(1), once.n.Load(), "scrypt runs once")
	require.Equal(t, f.contacts.get("t1"), g.contacts.get("t2"))
	require.Equal(t, f.notes.get("t1"), g.notes.get("t2"))
	entries, err := os.ReadDir(g.ex.Config().TempDir)
	require.NoError(t, err)
	require.Empty(t, entries, "the spool is removed")

	// The two-call way, for comparison in the same run.
	h := newFixture(t, export.Config{})
	twice := &countingIdentity{id: sid}
	keys := export.ReadOptions{Identities: []age.Identity{twice}}
	_, err = h.ex.Verify(context.Background(), bytes.NewReader(buf.Bytes()), keys)
	require.NoError(t, err)
	_, err = h.ex.Import(context.Background(), bytes.NewReader(buf.Bytes()), keys, export.Scope{Tenant: "t2"})
	require.NoError(t, err)
	require.Equal(t, int64(2), twice.n.Load())
}

// TestImportVerifiedAllOrNothing: no Importer sees a record unless the
// whole archive verified, where Import has already applied the modules
// before the bad one.
func TestImportVerifiedAllOrNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	id := newIdentity(t)
	keys := export.ReadOptions{Identities: []age.Identity{id}}
	var plain, sealed bytes.Buffer
	_, err := f.ex.Export(context.Background(), &plain, export.Request{Scope: export.Scope{Tenant: "t1"}})
	require.NoError(t, err)
	_, err = f.ex.Export(context.Background(), &sealed, export.Request{Scope: export.Scope{Tenant: "t1"}, Recipients: []age.Recipient{id.Recipient()}})
	require.NoError(t, err)
	es := readTar(t, plain.Bytes())
	es[2].data = bytes.Clone(es[2].data)
	es[2].data[len(es[2].data)-4] ^= 0x20 // last row of the last module
	badLast := writeTar(t, es)
	cut := sealed.Bytes()[:sealed.Len()-1] // the last chunk's tag
	flipped := bytes.Clone(sealed.Bytes())
	flipped[len(flipped)-20] ^= 0x01

	for _, tc := range []struct {
		name string
		data []byte
		keys export.ReadOptions
		want error
	}{
		{"last module mismatch", badLast, export.ReadOptions{}, export.ErrManifestMismatch},
		{"truncated", cut, keys, export.ErrCorrupt},
		{"last chunk flipped", flipped, keys, export.ErrCorrupt},
		{"wrong key", sealed.Bytes(), export.ReadOptions{Identities: []age.Identity{newIdentity(t)}}, export.ErrWrongKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newFixture(t, export.Config{})
			_, err := g.ex.ImportVerified(context.Background(), bytes.NewReader(tc.data), tc.keys, export.Scope{Tenant: "t2"})
			require.ErrorIs(t, err, tc.want)
			require.Empty(t, g.contacts.get("t2"), "nothing imported")
			require.Empty(t, g.notes.get("t2"), "nothing imported")
			entries, err := os.ReadDir(g.ex.Config().TempDir)
			require.NoError(t, err)
			require.Empty(t, entries, "the spool is removed")
		})
	}
	t.Run("unknown module", func(t *testing.T) {
		t.Parallel()
		ex := export.MustNew(export.Config{TempDir: t.TempDir()})
		contacts := newTable("subject", "name", "phone", "note")
		require.NoError(t, ex.Register("contacts", contacts))
		_, err := ex.ImportVerified(context.Background(), bytes.NewReader(sealed.Bytes()), keys, export.Scope{Tenant: "t2"})
		require.ErrorIs(t, err, export.ErrUnknownModule)
		require.Empty(t, contacts.get("t2"))
	})
	t.Run("no tenant", func(t *testing.T) {
		t.Parallel()
		_, err := f.ex.ImportVerified(context.Background(), bytes.NewReader(sealed.Bytes()), keys, export.Scope{})
		require.ErrorIs(t, err, export.ErrInvalidRequest)
	})
}
