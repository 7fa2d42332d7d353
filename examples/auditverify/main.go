// Command auditverify checks a Bulwark audit log export (JSON Lines, as
// written by auditjsonl.Export, or kept by audit/auditfile) without access
// to the database: every record's SHA-256 against its contents, the chain
// links and sequence numbers of each stream, every checkpoint's signature,
// and each stream's signed manifest: the file must hold exactly the range
// of records, the prune anchor and the checkpoint lines it states, so a
// file whose oldest or newest records, or any checkpoint line, were
// removed is refused.
//
//	auditverify -ed25519-pub <base64 or hex> -key-id 2026-05 export.jsonl
//	auditverify -hmac-key-file key.bin -key-id 2026-05 - < export.jsonl
//	cat checkpoints.jsonl records.jsonl | auditverify -unattested -hmac-key-file key.bin -key-id k1 -
//
// Name the files to read, or - for standard input; with no argument it
// prints its usage instead of waiting on a terminal. -unattested accepts
// files without a manifest (the live files of audit/auditfile): their
// range cannot be checked, and the report says so.
//
// Each stream's manifest attests that stream only: the file does not say
// which streams it should hold, so name them with -stream (repeated) and
// a stream missing from the input, or one not named, fails. An older
// export verifies too (it is a true prefix of the log): each line shows
// when the export was made.
//
// It prints one line per stream and exits 0 when everything verifies; 1
// when the log was tampered with (naming the first broken record), when
// the file is not the range its manifest states, when the input is empty,
// or, with a key given, when a stream's manifest is unsigned or no signed
// checkpoint covers its records (hashes alone prove nothing: anyone can
// recompute them); and 2 on usage or read errors. Records after a stream's
// last checkpoint are reported as not signed.
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
	"time"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/audit/auditjsonl"
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
	unattested := fs.Bool("unattested", false, "accept files without an export manifest (audit/auditfile); their range is not checked")
	var want []string
	fs.Func("stream", "a stream (tenant) the input must hold; repeat it: the input must then hold exactly these streams", func(s string) error {
		want = append(want, s)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: auditverify [-ed25519-pub KEY | -hmac-key-file FILE] [-key-id ID] [-unattested] [-stream NAME]... FILE... (- for standard input)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
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
		sv, _ = audit.NewEd25519Verifier(*keyID, ed25519.PublicKey(k)) // size checked above
	case *hmacFile != "":
		k, err := os.ReadFile(*hmacFile)
		if err != nil {
			fmt.Fprintln(stderr, "auditverify:", err)
			return 2
		}
		if sv, err = audit.NewHMACKey(*keyID, k); err != nil {
			fmt.Fprintln(stderr, "auditverify:", err)
			return 2
		}
	}
	var readers []io.Reader
	for _, name := range fs.Args() {
		if name == "-" {
			readers = append(readers, stdin)
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(stderr, "auditverify:", err)
			return 2
		}
		defer func() { _ = f.Close() }()
		readers = append(readers, f)
	}
	in := io.MultiReader(readers...)
	reps, err := auditjsonl.Verify(in, auditjsonl.VerifyOptions{Verifier: sv, Unattested: *unattested})
	var ce *audit.ChainError
	switch {
	case errors.Is(err, auditjsonl.ErrEmpty):
		fmt.Fprintln(stdout, "EMPTY: the input holds no audit records, checkpoints or manifest; nothing was verified")
		return 1
	case errors.As(err, &ce) && ce.Problem == auditjsonl.ProblemUnsigned:
		fmt.Fprintf(stdout, "UNSIGNED stream %q: the export manifest is not signed; anyone could have written the file\n", ce.Stream)
		return 1
	case errors.As(err, &ce) && ce.Problem == auditjsonl.ProblemRange:
		fmt.Fprintf(stdout, "TAMPERED stream %q: %s (records or checkpoint lines removed, added, or the manifest missing)\n", ce.Stream, ce.Problem)
		return 1
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
	// Each manifest attests one stream; nothing in the file says which
	// streams it should hold, so a whole stream cut out of it is only
	// seen against the list the auditor expects.
	if len(want) > 0 {
		held := map[string]bool{}
		for _, r := range reps {
			held[r.Stream] = true
		}
		for _, s := range want {
			if !held[s] {
				fmt.Fprintf(stdout, "MISSING stream %q: the input holds none of its lines\n", s)
				code = 1
			}
			delete(held, s)
		}
		for _, r := range reps {
			if held[r.Stream] {
				fmt.Fprintf(stdout, "UNEXPECTED stream %q: not one of the -stream names\n", r.Stream)
				code = 1
			}
		}
	} else if len(reps) > 1 {
		fmt.Fprintf(stderr, "auditverify: %d streams; a stream removed whole goes unseen unless each is named with -stream\n", len(reps))
	}
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
		if !r.Attested {
			anchor += ", range NOT attested (no manifest: records or checkpoints may be missing at either end)"
		} else {
			anchor += ", exported " + r.Exported.UTC().Format(time.RFC3339)
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
