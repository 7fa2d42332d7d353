// Command passwordexample shows the password package as a sign-up and login
// would use it: the default (NIST SP 800-63B) policy and the opt-in preset
// some products promise, a generated password and passphrase, argon2id
// hashing, and a legacy bcrypt hash from an old system upgraded at login.
//
//	go run ./examples/passwordexample
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bulwarkhq/bulwark/password"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "passwordexample:", err)
		os.Exit(1)
	}
}

// legacyBcrypt is what an older system stored for "p@ss word!"
// (htpasswd -nbBC 4).
const legacyBcrypt = "$2y$04$ZSnq0DVBJmYtrJ0Ldm2AUemVoWUe2xbXZLPNexUgg.CFjFm1o4N2q"

func run(ctx context.Context, w io.Writer) error {
	// The default policy: at least 8 characters, no composition rules, the
	// 30,000 most common passwords refused, and the user's own words too.
	nist := password.Policy{ContextWords: []string{"acme"}}
	preset := password.PresetUpperDigitSpecial() // "8 characters, one upper-case, one digit, one special"
	for _, pw := range []string{"Acme2026!", "sunshine", "correct horse battery staple"} {
		fmt.Fprintf(w, "%-30q default: %-32s preset: %s\n", pw,
			verdict(nist.Check(ctx, pw, "jan@example.com")), verdict(preset.Check(ctx, pw)))
	}

	// A password for a new account, and a passphrase, from crypto/rand.
	gen, err := password.Generate(preset, password.GenerateOptions{})
	if err != nil {
		return err
	}
	phrase, err := password.Passphrase(nist, password.GenerateOptions{Words: 6})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "generated: %d characters, passes the preset: %t; passphrase of %d words, strength %d/4\n",
		len([]rune(gen)), preset.Check(ctx, gen) == nil, len(strings.Split(phrase, "-")), password.Estimate(phrase).Score)

	// argon2id at RFC 9106's second recommended option.
	hasher, err := password.New(password.Config{})
	if err != nil {
		return err
	}
	hash, err := hasher.Hash(ctx, phrase)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "stored: %s$<salt>$<hash>\n", strings.Join(strings.SplitN(hash, "$", 5)[:4], "$"))
	fmt.Fprintf(w, "right password verifies: %t; wrong one: %v\n",
		hasher.Verify(ctx, phrase, hash) == nil, hasher.Verify(ctx, phrase+"x", hash))

	// A user migrated from an older system logs in: the bcrypt hash
	// verifies, NeedsRehash says to upgrade, and the new hash is argon2id.
	old := "p@ss word!"
	if err := hasher.Verify(ctx, old, legacyBcrypt); err != nil {
		return err
	}
	if hasher.NeedsRehash(legacyBcrypt) {
		upgraded, err := hasher.Hash(ctx, old)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "legacy bcrypt login verified and upgraded to %s\n", strings.SplitN(upgraded, "$", 3)[1])
	}
	return nil
}

// verdict names the first rule a password breaks, or "ok".
func verdict(err error) string {
	var pe *password.PolicyError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &pe):
		codes := make([]string, len(pe.Violations))
		for i, v := range pe.Violations {
			codes[i] = string(v.Code)
		}
		return "refused (" + strings.Join(codes, ", ") + ")"
	default:
		return err.Error()
	}
}
