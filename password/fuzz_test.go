package password_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/password"
)

// FuzzParseHash: the parser never panics, and every argon2id string it
// accepts re-encodes to exactly itself (one canonical form, so no two
// strings mean the same hash).
func FuzzParseHash(f *testing.F) {
	for _, s := range []string{
		"$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$Zh/vvW8pvLyPRkarwyqdekZFu1wFlTf4pVh/Ma2+zM0",
		"$argon2id$v=19$m=64,t=1,p=1,keyid=azE$c29tZXNhbHQ$Zh/vvW8pvLyPRkarwyqdekZFu1wFlTf4pVh/Ma2+zM0",
		"$2y$10$dWGTaDIqxRUToOH14yzlkeElWPLziBstUirAvlyjAepmJf.Gpljdi",
		"$scrypt$ln=4,r=8,p=1$NQ4tcZm4IGXxTNJOeQLBXA$Ofp/WX8Sou8TipOOQPymT5QqpdpRZqZS0O1Il5gFUhg",
		"$argon2id-onion$v=19$m=64,t=1,p=1$c29tZXNhbHQ$Zh/vvW8pvLyPRkarwyqdekZFu1wFlTf4pVh/Ma2+zM0$bcrypt$v=2y,c=10$dWGTaDIqxRUToOH14yzlke",
		"$argon2id-onion$v=19$m=64,t=1,p=1$c29tZXNhbHQ$Zh/vvW8pvLyPRkarwyqdekZFu1wFlTf4pVh/Ma2+zM0$scrypt$ln=4,r=8,p=1,l=32$NQ4tcZm4IGXxTNJOeQLBXA",
		"$argon2id-onion$v=19$m=64,t=1,p=1$c29tZXNhbHQ$Zh/vvW8pvLyPRkarwyqdekZFu1wFlTf4pVh/Ma2+zM0$argon2id$m=64,t=1,p=1,l=32,keyid=azE$c29tZXNhbHQ",
		"", "$", "$argon2id$v=19$m=0,t=0,p=0$$", "$argon2id$v=19$m=4294967295,t=1,p=1$AAAA$AAAA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := password.ParseRoundTrip(s)
		if err != nil {
			if !errors.Is(err, password.ErrMalformedHash) && !errors.Is(err, password.ErrParamsTooLarge) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		if (strings.HasPrefix(s, "$argon2id$") || strings.HasPrefix(s, "$argon2id-onion$")) && out != s {
			t.Fatalf("non-canonical hash accepted:\n in %q\nout %q", s, out)
		}
	})
}

var violationRE = regexp.MustCompile(`^[a-z0-9_]+(\([a-z]+=-?[0-9]+(,[a-z]+=-?[0-9]+)*\))?$`)

// FuzzPolicyCheck: Check never panics, and its error is built only from
// rule codes and numbers, so it cannot echo the password.
func FuzzPolicyCheck(f *testing.F) {
	for _, s := range []string{"", "password", "Zebra7!x", "\xff", "ﬁﬁﬁ", "bulwark2024", "пароль12", strings.Repeat("a", 200)} {
		f.Add(s, "bulwark")
	}
	ctx := context.Background()
	p := password.PresetUpperDigitSpecial()
	f.Fuzz(func(t *testing.T, pw, word string) {
		err := p.Check(ctx, pw, word)
		if err == nil {
			return
		}
		var pe *password.PolicyError
		if !errors.As(err, &pe) || len(pe.Violations) == 0 {
			t.Fatalf("not a PolicyError: %v", err)
		}
		msg, ok := strings.CutPrefix(err.Error(), "password: policy violated: ")
		if !ok {
			t.Fatalf("bad message %q", err.Error())
		}
		for _, part := range strings.Split(msg, ", ") {
			if !violationRE.MatchString(part) {
				t.Fatalf("unexpected message part %q", part)
			}
		}
		_ = password.Estimate(pw, word)
	})
}
