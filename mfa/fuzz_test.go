package mfa_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/mfa"
)

func FuzzParseKeyURI(f *testing.F) {
	for _, s := range []string{
		"otpauth://totp/Acme:alice@example.com?secret=" + goodSecret + "&issuer=Acme",
		"otpauth://totp/alice?secret=" + goodSecret + "&algorithm=SHA512&digits=8&period=15",
		"otpauth://totp/Acme:%20alice?secret=" + goodSecret + "&issuer=Acme&issuer=Acme",
		"otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=0",
		"otpauth://totp/%ZZ?secret=", "otpauth:opaque", "", "://",
		"otpauth://totp/AT%26T%20Wireless:alice?secret=" + goodSecret + "&issuer=AT%26T%20Wireless",
		"otpauth://totp/C%2B%2B%20Guild:bob%2Btotp@example.com?secret=" + goodSecret + "&issuer=C%2B%2B%20Guild",
		"otpauth://totp/" + strings.Repeat("ż", 128) + ":" + strings.Repeat("ź", 128) + "?secret=" + goodSecret,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := mfa.ParseKeyURI(s)
		if err != nil {
			if strings.Contains(err.Error(), "secret=") {
				t.Fatalf("error echoes input: %v", err)
			}
			return
		}
		if len(k.Secret) < 20 || (k.Digits != 6 && k.Digits != 8) || k.Period < time.Second || k.Period > 30*time.Second ||
			k.AccountName == "" || strings.Contains(k.Issuer+k.AccountName, ":") {
			t.Fatalf("accepted invalid key %+v from %q", k, s)
		}
		again, err := mfa.ParseKeyURI(k.String())
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", k.String(), err)
		}
		if again.Issuer != k.Issuer || again.AccountName != k.AccountName || string(again.Secret) != string(k.Secret) ||
			again.Algorithm != k.Algorithm || again.Digits != k.Digits || again.Period != k.Period {
			t.Fatalf("round trip changed %+v to %+v", k, again)
		}
	})
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"123456", " 123 456 ", "12345678", "1234567", "", "12a456", "١٢٣٤٥٦", strings.Repeat("9", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		digitsOnly := strings.ReplaceAll(s, " ", "")
		for _, n := range []int{6, 8} {
			v, ok := mfa.ParseCode(s, n)
			if ok {
				if len(digitsOnly) != n || strings.Trim(digitsOnly, "0123456789") != "" || len(s) > 64 {
					t.Fatalf("ParseCode(%q, %d) accepted", s, n)
				}
				if v >= 100000000 {
					t.Fatalf("ParseCode(%q) = %d", s, v)
				}
			}
		}
		c, ok := mfa.NormalizeDigits(s)
		if ok {
			if c != digitsOnly || len(c) < 6 || len(c) > 8 || strings.Trim(c, "0123456789") != "" {
				t.Fatalf("NormalizeDigits(%q) = %q", s, c)
			}
			if again, ok := mfa.NormalizeDigits(c); !ok || again != c {
				t.Fatalf("NormalizeDigits not idempotent on %q", c)
			}
		}
	})
}

func FuzzParseRecoveryCode(f *testing.F) {
	for _, s := range []string{"7k3m9-qx2vd-h8a1c-0zt5w-e4npr", "7K3M9QX2VDH8A1C0ZT5WE4NPR", "iiiii-lllll-ooooo-uuuuu-00000", "", "-----", " 7k3m9-qx2vd-h8a1c-0zt5w-e4npr "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := mfa.ParseRecoveryCode(s)
		if !ok {
			return
		}
		if len(c) != 25 || strings.Trim(c, "0123456789abcdefghjkmnpqrstvwxyz") != "" {
			t.Fatalf("ParseRecoveryCode(%q) = %q", s, c)
		}
		if strings.ReplaceAll(strings.ToLower(strings.Trim(s, " ")), "-", "") != c {
			t.Fatalf("ParseRecoveryCode(%q) = %q changes symbols", s, c)
		}
		if again, ok := mfa.ParseRecoveryCode(c); !ok || again != c {
			t.Fatalf("not idempotent on %q", c)
		}
	})
}
