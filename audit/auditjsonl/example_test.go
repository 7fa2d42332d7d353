package auditjsonl_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/audit/auditjsonl"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// Example exports a stream with a signed manifest and verifies the file
// offline with the public key alone, as an auditor would.
func Example() {
	ctx := context.Background()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	key, err := audit.NewEd25519Key("2026-05", priv)
	if err != nil {
		panic(err)
	}
	store := memstore.NewAuditStore()
	log, err := audit.New(store, audit.Config{Signer: key})
	if err != nil {
		panic(err)
	}
	for _, who := range []string{"ann", "bob", "cy"} {
		if _, err := log.Append(ctx, audit.Entry{Tenant: "acme", Actor: who, Action: "auth.login"}); err != nil {
			panic(err)
		}
	}
	if _, err := log.Checkpoint(ctx); err != nil {
		panic(err)
	}

	var file bytes.Buffer
	if _, err := auditjsonl.Export(ctx, &file, store, "acme", auditjsonl.ExportOptions{Signer: key}); err != nil {
		panic(err)
	}

	auditor, err := audit.NewEd25519Verifier("2026-05", pub)
	if err != nil {
		panic(err)
	}
	reps, err := auditjsonl.Verify(&file, auditjsonl.VerifyOptions{Verifier: auditor})
	if err != nil {
		panic(err)
	}
	r := reps[0]
	fmt.Printf("stream %q: records %d..%d, signed through %d, anchored %v, attested %v\n",
		r.Stream, r.From, r.To, r.Signed, r.Anchored, r.Attested)
	// Output: stream "acme": records 1..3, signed through 3, anchored true, attested true
}
