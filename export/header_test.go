package export_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// TestDamagedAgeHeader: an encrypted archive whose age header is damaged
// (its intro line or what follows) is ErrDamagedHeader and ErrCorrupt,
// with or without keys, and never ErrNotEncrypted, which would tell an
// operator that a damaged encrypted backup is a plaintext one. (A damaged
// stanza body cannot be told from a stanza for another key: that stays
// ErrWrongKey.)
func TestDamagedAgeHeader(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	id := newIdentity(t)
	encrypt := func(armor bool) []byte {
		var buf bytes.Buffer
		_, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}, Recipients: []age.Recipient{id.Recipient()}, Armor: armor})
		require.NoError(t, err)
		return buf.Bytes()
	}
	bin, armored := encrypt(false), encrypt(true)
	edit := func(b []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	type tc struct {
		name    string
		data    []byte
		needKey bool // the damage shows only once the file key is known
	}
	var cases []tc
	intro := len("age-encryption.org/v1")
	for at := range intro + 1 {
		cases = append(cases, tc{fmt.Sprintf("intro byte %d flipped", at), edit(bin, func(b []byte) []byte { b[at] ^= 0x01; return b }), false})
	}
	for _, at := range []int{0, 7, 20} {
		cases = append(cases,
			tc{fmt.Sprintf("intro byte %d dropped", at), edit(bin, func(b []byte) []byte { return append(b[:at:at], b[at+1:]...) }), false},
			tc{fmt.Sprintf("byte inserted at %d", at), edit(bin, func(b []byte) []byte { return append(append(b[:at:at], 'x'), b[at:]...) }), false})
	}
	hdrEnd := bytes.Index(bin, []byte("\n---")) + 49
	cases = append(cases,
		tc{"other age version", edit(bin, func(b []byte) []byte { b[intro-1] = '2'; return b }), false},
		tc{"upper case", edit(bin, func(b []byte) []byte { return append(bytes.ToUpper(b[:intro:intro]), b[intro:]...) }), false},
		tc{"armour intro flipped", edit(armored, func(b []byte) []byte { b[12] ^= 0x20; return b }), false},
		tc{"stanza line damaged", edit(bin, func(b []byte) []byte { b[bytes.Index(b, []byte("\n-> "))+2] = '<'; return b }), false},
		tc{"header MAC damaged", edit(bin, func(b []byte) []byte { b[hdrEnd-10] ^= 0x01; return b }), true},
		tc{"header line break lost", edit(bin, func(b []byte) []byte { b[intro] = ' '; return b }), false},
	)
	for _, c := range cases {
		for _, keys := range []export.ReadOptions{{Identities: []age.Identity{id}}, {}} {
			_, err := f.ex.Verify(context.Background(), bytes.NewReader(c.data), keys)
			if c.needKey && len(keys.Identities) == 0 {
				require.ErrorIs(t, err, export.ErrWrongKey, c.name)
				continue
			}
			require.ErrorIs(t, err, export.ErrDamagedHeader, "%s, keys %v", c.name, len(keys.Identities) != 0)
			require.ErrorIs(t, err, export.ErrCorrupt, c.name)
			require.NotErrorIs(t, err, export.ErrNotEncrypted, c.name)
		}
	}
	// Archives that are not age files are still told apart.
	var plain bytes.Buffer
	_, err := f.ex.Export(context.Background(), &plain, export.Request{Scope: export.Scope{Tenant: "t1"}})
	require.NoError(t, err)
	_, err = f.ex.Verify(context.Background(), bytes.NewReader(plain.Bytes()), export.ReadOptions{Identities: []age.Identity{id}})
	require.ErrorIs(t, err, export.ErrNotEncrypted)
	var zip bytes.Buffer
	_, err = f.ex.Export(context.Background(), &zip, export.Request{Scope: export.Scope{Tenant: "t1"}, Archive: export.Zip})
	require.NoError(t, err)
	_, err = f.ex.Verify(context.Background(), bytes.NewReader(zip.Bytes()), export.ReadOptions{Identities: []age.Identity{id}})
	require.ErrorIs(t, err, export.ErrNotEncrypted)
	_, err = f.ex.Verify(context.Background(), bytes.NewReader(zip.Bytes()), export.ReadOptions{})
	require.NoError(t, err)
}
