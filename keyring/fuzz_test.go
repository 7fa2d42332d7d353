package keyring_test

import (
	"context"
	"testing"

	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// FuzzDecrypt feeds arbitrary bytes to Open, OpenFor and DecryptString:
// none may panic, and nothing but a genuine ciphertext may open.
func FuzzDecrypt(f *testing.F) {
	ctx := context.Background()
	kr := newKeyring(f, memstore.NewKeyringStore(), keyring.Config{})
	ad := keyring.AD("users", "email", "1")
	ct, err := kr.Seal(ctx, []byte("ada@example.com"), ad)
	if err != nil {
		f.Fatal(err)
	}
	sct, err := kr.SealFor(ctx, "s", []byte("x"), ad)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ct, ad)
	f.Add(sct, ad)
	f.Add(ct[:10], []byte(nil))
	f.Add([]byte{}, []byte{})
	f.Add(append([]byte{1, 0, 0, 0, 0}, make([]byte, 40)...), ad)
	f.Fuzz(func(t *testing.T, data, ad2 []byte) {
		pt, err := kr.Open(ctx, data, ad2)
		if err == nil && string(pt) != "ada@example.com" {
			t.Fatalf("forged ciphertext opened: %q", pt)
		}
		_, _ = kr.OpenFor(ctx, "s", data, ad2)
		_, _ = kr.DecryptString(ctx, string(data), ad2)
		_, _ = keyring.KeyID(data)
	})
}

// FuzzUnwrap feeds arbitrary wrapped keys to both KEKs, including the
// passphrase KEK's stored cost parameters, which must stay capped.
func FuzzUnwrap(f *testing.F) {
	ctx := context.Background()
	local := testKEK(f, 3)
	pass, err := keyring.NewPassphraseKEK(keyring.NewSecret([]byte("pw")), cheap)
	if err != nil {
		f.Fatal(err)
	}
	w1, _ := local.Wrap(ctx, []byte("k"), nil)
	w2, _ := pass.Wrap(ctx, []byte("k"), nil)
	f.Add(w1)
	f.Add(w2)
	f.Add([]byte{2, 0, 0, 0, 1, 0, 0, 0, 8, 1})
	f.Fuzz(func(t *testing.T, w []byte) {
		// Keep the fuzzer from spending its time in argon2id with large
		// (but capped) memory: only small costs are exercised for real.
		if len(w) >= 10 && w[0] == 2 && (w[5] != 0 || w[6] != 0 || w[7] != 0 || w[1] != 0 || w[2] != 0 || w[3] != 0 || w[4] > 2) {
			return
		}
		_, _ = local.Unwrap(ctx, w, nil)
		_, _ = pass.Unwrap(ctx, w, nil)
	})
}

// FuzzParseMasterKey: any text either parses to 32 bytes or is refused.
func FuzzParseMasterKey(f *testing.F) {
	f.Add("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	f.Add("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := keyring.ParseMasterKey(s)
		if err == nil && len(k.Bytes()) != 32 {
			t.Fatalf("parsed %d bytes", len(k.Bytes()))
		}
	})
}
