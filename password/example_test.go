package password_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/bulwarkhq/bulwark/password"
)

// Sign-up: check the new password against the policy with the user's own
// context words, then hash it. At login, verify and upgrade old hashes.
func Example() {
	ctx := context.Background()
	policy := password.Policy{ContextWords: []string{"Bulwark"}}

	err := policy.Check(ctx, "bulwark2024", "alice@example.com")
	var pe *password.PolicyError
	if errors.As(err, &pe) {
		for _, v := range pe.Violations {
			fmt.Println("rejected:", v.Code, v.Params)
		}
	}
	if err := policy.Check(ctx, "plaid kettle ascends quietly", "alice@example.com"); err == nil {
		fmt.Println("accepted")
	}

	hasher, err := password.New(password.Config{}) // argon2id, RFC 9106 parameters
	if err != nil {
		panic(err)
	}
	encoded, err := hasher.Hash(ctx, "plaid kettle ascends quietly")
	if err != nil {
		panic(err)
	}
	fmt.Println(encoded[:31])

	switch err := hasher.Verify(ctx, "plaid kettle ascends quietly", encoded); {
	case err == nil:
		fmt.Println("login ok, rehash:", hasher.NeedsRehash(encoded))
	case errors.Is(err, password.ErrMismatch):
		fmt.Println("wrong password")
	default:
		fmt.Println("cannot verify:", err) // malformed hash, cancelled ctx, ...
	}
	// Output:
	// rejected: context_word map[index:0]
	// accepted
	// $argon2id$v=19$m=65536,t=3,p=4$
	// login ok, rehash: false
}

// The composition preset many SaaS contracts promise, and a generated
// password that satisfies it.
func ExamplePresetUpperDigitSpecial() {
	ctx := context.Background()
	p := password.PresetUpperDigitSpecial()
	fmt.Println(p.Check(ctx, "zebra-crossing"))
	pw, err := password.Generate(p, password.GenerateOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(pw), p.Check(ctx, pw))
	// Output:
	// password: policy violated: min_upper(actual=0,min=1), min_digit(actual=0,min=1)
	// 20 <nil>
}

// Verifying a hash made by another system (here htpasswd's bcrypt) and
// learning that it should be replaced.
func ExampleHasher_NeedsRehash() {
	ctx := context.Background()
	h, err := password.New(password.Config{})
	if err != nil {
		panic(err)
	}
	legacy := "$2y$04$6Q/A4/97dI10FgwekGalQe.VfPJoXSLfduGszC6A1CIJesVYGpA3i"
	fmt.Println(h.Verify(ctx, "p@ss word!", legacy), h.NeedsRehash(legacy))
	// Output: <nil> true
}

func ExampleEstimate() {
	for _, pw := range []string{"password", "monkeydragon", "correct horse battery staple"} {
		s := password.Estimate(pw)
		fmt.Println(s.Score, s.Hints)
	}
	// Output:
	// 0 [common add_words]
	// 1 [common_word add_words]
	// 4 [common_word]
}

// A policy with the Have I Been Pwned breach check. Here a stand-in server
// answers like the range API; in production leave Endpoint empty and pass
// your own *http.Client.
func ExampleHIBP() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// SHA-1("P@ssw0rd!2024") = FF58A1EB..., only "FF58A" is sent.
		fmt.Println("request:", r.URL.Path, "padding:", r.Header.Get("Add-Padding"))
		_, _ = fmt.Fprint(w, "00000000000000000000000000000000000:0\r\n")
	}))
	defer srv.Close()

	policy := password.Policy{Breach: &password.HIBP{Client: srv.Client(), Endpoint: srv.URL + "/range/"}}
	fmt.Println(policy.Check(context.Background(), "P@ssw0rd!2024"))
	// Output:
	// request: /range/FF58A padding: true
	// <nil>
}

// A legacy bcrypt hash wrapped offline in argon2id: it verifies the same
// password without the owner logging in, and the first login replaces it
// with a plain argon2id hash (NeedsRehash).
func ExampleHasher_Wrap() {
	ctx := context.Background()
	h, err := password.New(password.Config{Params: password.Params{Memory: 64, Time: 1, Parallelism: 1}})
	if err != nil {
		panic(err)
	}
	legacy, _ := bcrypt.GenerateFromPassword([]byte("correct horse battery staple"), 4)
	onion, err := h.Wrap(ctx, string(legacy))
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.SplitN(onion, "$", 3)[1], password.InnerSetting(onion))
	fmt.Println(h.Verify(ctx, "correct horse battery staple", onion) == nil, h.NeedsRehash(onion))
	// Output:
	// argon2id-onion bcrypt$v=2a,c=4
	// true true
}
