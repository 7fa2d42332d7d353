package asvs_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Some requirements are met by what the code never does. These tests
// read every non-test Go file of the module (bench/, its own module of
// peer comparisons, and testdata/ excluded) and fail when the thing that
// must be absent appears.

type goFile struct {
	path string // relative to the module root, slash-separated
	file *ast.File
	main bool // package main: an example or a tool, not the library
}

func sourceFiles(t *testing.T) []goFile {
	t.Helper()
	var out []goFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "bench" || d.Name() == "testdata" || (strings.HasPrefix(d.Name(), ".") && rel != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		out = append(out, goFile{path: rel, file: f, main: f.Name.Name == "main"})
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, len(out), 50, "the walk found too few files to be the module")
	return out
}

func imports(f *ast.File) []string {
	var out []string
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		out = append(out, p)
	}
	return out
}

// selectors returns every pkg.Name expression in f, keyed "pkg.Name", with
// pkg the import's local name.
func selectors(f *ast.File) map[string]token.Pos {
	out := map[string]token.Pos{}
	ast.Inspect(f, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := s.X.(*ast.Ident); ok {
				out[id.Name+"."+s.Sel.Name] = s.Pos()
			}
		}
		return true
	})
	return out
}

// forbidden reports the uses of forbidden imports and package-level names.
func forbidden(files []goFile, imps map[string]string, names map[string]string) []string {
	var found []string
	for _, f := range files {
		for _, p := range imports(f.file) {
			if why, bad := imps[p]; bad {
				found = append(found, f.path+": imports "+p+" ("+why+")")
			}
		}
		for s := range selectors(f.file) {
			if why, bad := names[s]; bad {
				found = append(found, f.path+": uses "+s+" ("+why+")")
			}
		}
	}
	return found
}

// ASVS 5.0 11.3.1: no insecure block modes (ECB, CBC without integrity,
// unauthenticated stream modes) and no weak padding (PKCS#1 v1.5
// encryption). Go has no ECB mode; calling Block.Encrypt directly is how
// one would write it, so the only block-cipher users allowed are AEADs.
var weakModes = map[string]string{
	"cipher.NewCBCEncrypter":            "CBC: unauthenticated, padding oracles",
	"cipher.NewCBCDecrypter":            "CBC: unauthenticated, padding oracles",
	"cipher.NewCFBEncrypter":            "CFB: unauthenticated",
	"cipher.NewCFBDecrypter":            "CFB: unauthenticated",
	"cipher.NewOFB":                     "OFB: unauthenticated",
	"cipher.NewCTR":                     "CTR without a MAC",
	"rsa.EncryptPKCS1v15":               "PKCS#1 v1.5 encryption padding",
	"rsa.DecryptPKCS1v15":               "PKCS#1 v1.5 encryption padding",
	"rsa.DecryptPKCS1v15SessionKey":     "PKCS#1 v1.5 encryption padding",
	"rsa.SignPKCS1v15":                  "PKCS#1 v1.5 signature padding",
	"rsa.EncryptOAEP":                   "RSA is not in Bulwark's inventory",
	"elliptic.P224":                     "below 128-bit security",
	"x509.EncryptPEMBlock":              "legacy PEM encryption (CBC, MD5 KDF)",
	"x509.DecryptPEMBlock":              "legacy PEM encryption (CBC, MD5 KDF)",
	"chacha20.NewUnauthenticatedCipher": "unauthenticated stream cipher",
}

var weakCiphers = map[string]string{
	"crypto/des":                    "DES and 3DES",
	"crypto/rc4":                    "RC4",
	"crypto/dsa":                    "DSA is deprecated",
	"golang.org/x/crypto/blowfish":  "64-bit block cipher",
	"golang.org/x/crypto/cast5":     "64-bit block cipher",
	"golang.org/x/crypto/tea":       "64-bit block cipher",
	"golang.org/x/crypto/xtea":      "64-bit block cipher",
	"golang.org/x/crypto/twofish":   "not an approved cipher",
	"golang.org/x/crypto/md4":       "broken hash",
	"golang.org/x/crypto/ripemd160": "not an approved hash",
	"golang.org/x/crypto/openpgp":   "deprecated, CFB mode",
	"golang.org/x/crypto/salsa20":   "unauthenticated stream cipher",
	"golang.org/x/crypto/chacha20":  "unauthenticated stream cipher (use chacha20poly1305)",
}

// legacyHashOnly names the files allowed a cipher from weakCiphers, and
// why: none of them encrypts data.
var legacyHashOnly = map[string]string{
	// bcrypt is EksBlowfish: to wrap a stored bcrypt hash in argon2id (the
	// hash onion) the password package recomputes bcrypt with the stored
	// salt, which x/crypto/bcrypt cannot do. Blowfish is the key schedule
	// of a legacy password hash here, never a cipher for data.
	"password/onion.go": "bcrypt's EksBlowfish for verifying legacy hashes",
}

// TestNoInsecureBlockModesOrPadding proves ASVS 5.0 11.3.1 by absence.
func TestNoInsecureBlockModesOrPadding(t *testing.T) {
	t.Parallel()
	var files []goFile
	for _, f := range sourceFiles(t) {
		if _, ok := legacyHashOnly[f.path]; !ok {
			files = append(files, f)
		}
	}
	found := forbidden(files, weakCiphers, weakModes)
	require.Empty(t, found)

	// Every aes.NewCipher feeds cipher.NewGCM in the same file.
	for _, f := range sourceFiles(t) {
		s := selectors(f.file)
		if _, aes := s["aes.NewCipher"]; aes {
			_, gcm := s["cipher.NewGCM"]
			_, gcm2 := s["cipher.NewGCMWithRandomNonce"]
			require.True(t, gcm || gcm2, "%s: aes.NewCipher without cipher.NewGCM", f.path)
		}
	}
}

// TestOnlyApprovedPublicKeyAlgorithms proves ASVS 5.0 11.6.1: the
// public-key algorithms in the inventory are Ed25519 (audit checkpoint
// signatures) and X25519 (export, through age); nothing else is imported.
func TestOnlyApprovedPublicKeyAlgorithms(t *testing.T) {
	t.Parallel()
	files := sourceFiles(t)
	var ed25519In, ageIn []string
	for _, f := range files {
		for _, p := range imports(f.file) {
			switch p {
			case "crypto/ed25519":
				ed25519In = append(ed25519In, f.path)
			case "filippo.io/age":
				ageIn = append(ageIn, f.path)
			case "crypto/rsa", "crypto/dsa", "golang.org/x/crypto/ed25519", "golang.org/x/crypto/curve25519":
				if !f.main {
					t.Errorf("%s imports %s: not in the library's public-key inventory", f.path, p)
				}
			}
		}
	}
	require.Contains(t, ed25519In, "audit/checkpoint.go", "audit checkpoints are signed with Ed25519")
	require.Contains(t, ageIn, "export/write.go", "export encrypts to X25519 recipients through age")
	found := forbidden(files, nil, map[string]string{"elliptic.P224": "below 128-bit security"})
	require.Empty(t, found)
}

// TestNoSecretQuestions proves ASVS 5.0 6.4.2 by absence: no exported
// name of the library, and no column of its SQL schema, holds a password
// hint or a knowledge-based question or answer.
func TestNoSecretQuestions(t *testing.T) {
	t.Parallel()
	bad := regexp.MustCompile(`(?i)question|answer|passwordhint|pwhint|memorable`)
	for _, f := range sourceFiles(t) {
		if f.main {
			continue
		}
		ast.Inspect(f.file, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && id.IsExported() && bad.MatchString(id.Name) {
				t.Errorf("%s: exported name %s looks like knowledge-based authentication", f.path, id.Name)
			}
			return true
		})
	}
	for _, sql := range migrationFiles(t) {
		b, err := os.ReadFile(sql)
		require.NoError(t, err)
		if m := regexp.MustCompile(`(?i)\b\w*(question|answer|hint)\w*\b`).Find(b); m != nil {
			t.Errorf("%s: column %s looks like knowledge-based authentication", sql, m)
		}
	}
}

func migrationFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "store/sqlstore/migrations/*/*/*.sql"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no SQL migrations found")
	return files
}

// TestNoDefaultAccounts proves ASVS 5.0 6.3.2 by absence: Bulwark keeps
// no users table of its own (the host's CredentialStore holds accounts),
// its migrations seed no account-like rows (a singleton bookkeeping row such
// as the retention fence is not an account), and the library has no
// built-in login name.
func TestNoDefaultAccounts(t *testing.T) {
	t.Parallel()
	insert := regexp.MustCompile(`(?i)\binsert\s+into\s+"?\w*(user|account|credential|member|login|password|principal|identit)\w*`)
	for _, sql := range migrationFiles(t) {
		b, err := os.ReadFile(sql)
		require.NoError(t, err)
		require.False(t, insert.Match(b), "%s seeds rows", sql)
	}
	defaults := map[string]bool{"admin": true, "administrator": true, "root": true, "sa": true, "guest": true, "test": true, "demo": true}
	isDefault := func(e ast.Expr) bool {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return false
		}
		s, _ := strconv.Unquote(lit.Value)
		return defaults[strings.ToLower(s)]
	}
	account := regexp.MustCompile(`(?i)login|user|email|account|name`)
	for _, f := range sourceFiles(t) {
		if f.main {
			continue
		}
		ast.Inspect(f.file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr: // if login == "admin" { ... }
				if n.Op == token.EQL && (isDefault(n.X) || isDefault(n.Y)) {
					t.Errorf("%s: compares with a built-in account name", f.path)
				}
			case *ast.KeyValueExpr: // User{Login: "admin"}
				if id, ok := n.Key.(*ast.Ident); ok && account.MatchString(id.Name) && isDefault(n.Value) {
					t.Errorf("%s: %s set to a built-in account name", f.path, id.Name)
				}
			}
			return true
		})
	}
}

// logWriters are the ways a library could log on its own, outside the
// destinations SECURITY.md's log inventory names (the audit store, the
// hooks and the slog.Logger the host passes in).
var logWriters = map[string]string{
	"log.Print": "", "log.Printf": "", "log.Println": "", "log.Fatal": "", "log.Fatalf": "",
	"log.Panic": "", "log.Panicf": "", "log.Default": "", "log.New": "",
	"fmt.Print": "", "fmt.Printf": "", "fmt.Println": "",
	"os.Stdout": "", "os.Stderr": "",
	"slog.Info": "", "slog.Warn": "", "slog.Error": "", "slog.Debug": "", "slog.Log": "",
}

// documentedWriters are the exceptions, each in the log inventory.
var documentedWriters = map[string]bool{
	// ConsoleSender is the development mail sender: it prints the message
	// it is given to its writer, standard error by default.
	"mfa/oob.go os.Stderr": true,
}

// TestLibraryLogsOnlyWhereDocumented proves ASVS 5.0 16.2.3: library
// packages write log records only to the audit store, the event hooks and
// the slog.Logger the host configures (slog.Default when it sets none);
// they never print or use the standard logger.
func TestLibraryLogsOnlyWhereDocumented(t *testing.T) {
	t.Parallel()
	for _, f := range sourceFiles(t) {
		if f.main || strings.HasPrefix(f.path, "internal/") || strings.HasPrefix(f.path, "examples/") {
			continue
		}
		for s := range selectors(f.file) {
			if _, w := logWriters[s]; w && !documentedWriters[f.path+" "+s] {
				t.Errorf("%s: uses %s, a log destination the inventory does not name", f.path, s)
			}
		}
	}
}

// TestAbsenceCheckersSeeViolations feeds each absence check a file that
// breaks it, so none can pass by looking at nothing.
func TestAbsenceCheckersSeeViolations(t *testing.T) {
	t.Parallel()
	src := `package p
import ("crypto/aes"; "crypto/cipher"; "crypto/des"; "log")
func f(k []byte) { b, _ := aes.NewCipher(k); cipher.NewCBCEncrypter(b, k); _ = des.BlockSize; log.Print("x") }
type SecurityQuestion struct{}`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	require.NoError(t, err)
	found := forbidden([]goFile{{path: "p.go", file: f}}, weakCiphers, weakModes)
	require.Len(t, found, 2)
	_, logs := selectors(f)["log.Print"]
	require.True(t, logs)
	require.True(t, f.Scope.Lookup("SecurityQuestion") != nil)
}
