// Command auditverify checks a Bulwark audit log export (JSON Lines, as
// written by audit.Log.Export or kept by audit/auditfile) without access
// to the database: every record's SHA-256 against its contents, the chain
// links and sequence numbers of each stream, and every checkpoint's
// signature.
//
//	auditverify -ed25519-pub <base64 or hex> -key-id 2026-05 export.jsonl
//	auditverify -hmac-key-file key.bin -key-id 2026-05 < export.jsonl
//	cat checkpoints.jsonl records.jsonl | auditverify -hmac-key-file key.bin -key-id k1
//
// It prints one line per stream and exits 0 when everything verifies, 1
// when the log was tampered with (naming the first broken record) or, with
// a key given, when a stream has no signed checkpoint (its hashes alone
// prove nothing: anyone can recompute them), and 2 on usage or read
// errors. Records after a stream's last checkpoint are reported as not
// signed.
package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bulwarkhq/bulwark/audit"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("auditverify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pub := fs.String("ed25519-pub", "", "Ed25519 public key (base64 or hex) that signed the checkpoints")
	hmacFile := fs.String("hmac-key-file", "", "file holding the raw HMAC-SHA256 checkpoint key")
	keyID := fs.String("key-id", "", "id of the checkpoint key")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var sv audit.SignatureVerifier
	switch {
	case *pub != "":
		k, err := decodeKey(*pub)
		if err != nil || len(k) != ed25519.PublicKeySize {
			fmt.Fprintln(stderr, "auditverify: -ed25519-pub is not a 32-byte key in base64 or hex")
			return 2
		}
		sv = audit.Ed25519Verifier{ID: *keyID, Key: ed25519.PublicKey(k)}
	case *hmacFile != "":
		k, err := os.ReadFile(*hmacFile)
		if err != nil {
			fmt.Fprintln(stderr, "auditverify:", err)
			return 2
		}
		sv = audit.HMACKey{ID: *keyID, Key: k}
	}
	in := stdin
	if fs.NArg() > 0 {
		var readers []io.Reader
		for _, name := range fs.Args() {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintln(stderr, "auditverify:", err)
				return 2
			}
			defer func() { _ = f.Close() }()
			readers = append(readers, f)
		}
		in = io.MultiReader(readers...)
	}
	reps, err := audit.VerifyJSONL(in, sv)
	var ce *audit.ChainError
	switch {
	case errors.As(err, &ce):
		fmt.Fprintf(stdout, "TAMPERED stream %q at record %d: %s\n", ce.Stream, ce.Seq, ce.Problem)
		return 1
	case errors.Is(err, audit.ErrNoVerifier):
		fmt.Fprintln(stderr, "auditverify: the file has signed checkpoints; pass -ed25519-pub or -hmac-key-file")
		return 2
	case err != nil:
		fmt.Fprintln(stderr, "auditverify:", err)
		return 2
	}
	code := 0
	for _, r := range reps {
		if sv != nil && r.Signed == 0 && r.Records > 0 {
			// Hashes alone prove nothing: anyone can recompute them. With a
			// key given, a stream no checkpoint vouches for fails.
			fmt.Fprintf(stdout, "UNSIGNED stream %q: no signed checkpoint covers records %d..%d; anyone could have written them\n",
				r.Stream, r.From, r.To)
			code = 1
			continue
		}
		anchor := "anchored"
		if !r.Anchored {
			anchor = "NOT anchored: the first record's predecessor is unverified"
		}
		signed := "no checkpoints: the hashes prove nothing about who wrote the records"
		switch {
		case r.Signed >= r.To && r.Signed > 0:
			signed = "all signed"
		case r.Signed > 0:
			signed = fmt.Sprintf("signed through record %d; records %d..%d are NOT signed", r.Signed, r.Signed+1, r.To)
		}
		fmt.Fprintf(stdout, "ok stream %q: records %d..%d (%d), %d checkpoints, %s, %s, head %x\n",
			r.Stream, r.From, r.To, r.Records, r.Checkpoints, anchor, signed, r.Head.Hash[:8])
	}
	return code
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.StdEncoding.DecodeString(s)
}
