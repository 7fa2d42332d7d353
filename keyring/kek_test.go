package keyring_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/keyring"
)

var master = bytes.Repeat([]byte{0xab}, 32)

func TestParseMasterKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		ok         bool
	}{
		{"hex", hex.EncodeToString(master), true},
		{"hex upper with newline", "  " + hex.EncodeToString(master) + "\n", true},
		{"base64", base64.StdEncoding.EncodeToString(master), true},
		{"base64 raw", base64.RawStdEncoding.EncodeToString(master), true},
		{"base64url", base64.URLEncoding.EncodeToString(master), true},
		{"base64url raw", base64.RawURLEncoding.EncodeToString(master), true},
		{"empty", "", false},
		{"short hex", hex.EncodeToString(master[:31]), false},
		{"long base64", base64.StdEncoding.EncodeToString(append(master, 1)), false},
		{"garbage", "not a key at all, not at all!", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := keyring.ParseMasterKey(tc.text)
			if !tc.ok {
				require.ErrorIs(t, err, keyring.ErrInvalidMasterKey)
				return
			}
			require.NoError(t, err)
			require.Equal(t, master, k.Bytes())
		})
	}
	g := keyring.GenerateMasterKey()
	require.Len(t, g.Bytes(), 32)
	k, err := keyring.ParseMasterKey(hex.EncodeToString(g.Bytes()))
	require.NoError(t, err)
	require.True(t, g.Equal(k))
	require.False(t, g.Equal(keyring.GenerateMasterKey()))
}

func TestLocalKEKLoaders(t *testing.T) {
	ctx := context.Background()
	ref, err := keyring.NewLocalKEK(master)
	require.NoError(t, err)
	w, err := ref.Wrap(ctx, []byte("dek"), []byte("ad"))
	require.NoError(t, err)

	t.Setenv("BULWARK_TEST_MASTER", base64.StdEncoding.EncodeToString(master))
	fromEnv, err := keyring.LocalKEKFromEnv("BULWARK_TEST_MASTER")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "master.key")
	require.NoError(t, os.WriteFile(path, []byte(hex.EncodeToString(master)+"\n"), 0o600))
	fromFile, err := keyring.LocalKEKFromFile(path)
	require.NoError(t, err)
	for _, k := range []keyring.KEK{fromEnv, fromFile} {
		got, err := k.Unwrap(ctx, w, []byte("ad"))
		require.NoError(t, err)
		require.Equal(t, "dek", string(got))
	}

	_, err = keyring.LocalKEKFromEnv("BULWARK_TEST_MASTER_UNSET")
	require.ErrorIs(t, err, keyring.ErrInvalidMasterKey)
	_, err = keyring.LocalKEKFromFile(filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
	_, err = keyring.NewLocalKEK(master[:16])
	require.ErrorIs(t, err, keyring.ErrInvalidMasterKey)
}

func TestKEKUnwrapErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	local, err := keyring.NewLocalKEK(master)
	require.NoError(t, err)
	pass, err := keyring.NewPassphraseKEK(keyring.NewSecret([]byte("correct horse battery staple")), cheap)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		kek  keyring.KEK
	}{{"local", local}, {"passphrase", pass}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, err := tc.kek.Wrap(ctx, []byte("dek"), []byte("ad"))
			require.NoError(t, err)
			got, err := tc.kek.Unwrap(ctx, w, []byte("ad"))
			require.NoError(t, err)
			require.Equal(t, "dek", string(got))
			_, err = tc.kek.Unwrap(ctx, w, []byte("other"))
			require.ErrorIs(t, err, keyring.ErrWrongKEK)
			for i := range w {
				c := bytes.Clone(w)
				c[i] ^= 0x80
				_, err = tc.kek.Unwrap(ctx, c, []byte("ad"))
				require.ErrorIs(t, err, keyring.ErrWrongKEK, "byte %d", i)
			}
			for n := range len(w) {
				_, err = tc.kek.Unwrap(ctx, w[:n], []byte("ad"))
				require.ErrorIs(t, err, keyring.ErrWrongKEK, "length %d", n)
			}
		})
	}
}

var cheap = keyring.PassphraseParams{Time: 1, MemoryKiB: 64, Threads: 1}

func TestPassphraseKEK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pw := keyring.NewSecret([]byte("correct horse battery staple"))
	a, err := keyring.NewPassphraseKEK(pw, cheap)
	require.NoError(t, err)
	w, err := a.Wrap(ctx, []byte("dek"), nil)
	require.NoError(t, err)

	// A later process derives with its own salt and other parameters, yet
	// reads the salt and parameters stored in the wrapped key.
	b, err := keyring.NewPassphraseKEK(pw, keyring.PassphraseParams{Time: 2, MemoryKiB: 32, Threads: 2})
	require.NoError(t, err)
	got, err := b.Unwrap(ctx, w, nil)
	require.NoError(t, err)
	require.Equal(t, "dek", string(got))

	wrong, err := keyring.NewPassphraseKEK(keyring.NewSecret([]byte("Tr0ub4dor&3")), cheap)
	require.NoError(t, err)
	_, err = wrong.Unwrap(ctx, w, nil)
	require.ErrorIs(t, err, keyring.ErrWrongKEK)

	// Cost parameters beyond the caps are refused before any work.
	huge := bytes.Clone(w)
	huge[1], huge[2], huge[3], huge[4] = 0xff, 0xff, 0xff, 0xff
	_, err = a.Unwrap(ctx, huge, nil)
	require.ErrorIs(t, err, keyring.ErrWrongKEK)
	huge = bytes.Clone(w)
	huge[5] = 0xff
	_, err = a.Unwrap(ctx, huge, nil)
	require.ErrorIs(t, err, keyring.ErrWrongKEK)

	_, err = keyring.NewPassphraseKEK(keyring.Secret{}, cheap)
	require.Error(t, err)
	_, err = keyring.NewPassphraseKEK(pw, keyring.PassphraseParams{Time: 100})
	require.Error(t, err, "parameters beyond the caps are refused at construction")
}

func TestPassphraseKEKDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("derives with the default 64 MiB argon2id")
	}
	t.Parallel()
	ctx := context.Background()
	k, err := keyring.NewPassphraseKEK(keyring.NewSecret([]byte("a long passphrase")), keyring.PassphraseParams{})
	require.NoError(t, err)
	w, err := k.Wrap(ctx, []byte("dek"), nil)
	require.NoError(t, err)
	// Header: 0x02 | time=3 | memory=65536 KiB | threads=4 (RFC 9106 §4).
	require.Equal(t, []byte{2, 0, 0, 0, 3, 0, 1, 0, 0, 4}, w[:10])
}
