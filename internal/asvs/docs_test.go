package asvs_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// notPathways are Authenticator methods that authenticate nobody.
var notPathways = map[string]bool{
	"MFAChanged": true, // records and announces a factor change the host made
}

// TestAuthPathwaysDocumented proves ASVS 5.0 6.1.3 and 6.3.4 for the
// documentation half: every way into an account that auth offers (each
// exported method of Authenticator) is named in the package doc, where
// its controls are described. A new pathway without its paragraph fails.
func TestAuthPathwaysDocumented(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	dir := filepath.Join(root, "auth")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var files []*ast.File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		require.NoError(t, err)
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/bulwarkhq/bulwark/auth")
	require.NoError(t, err)
	var methods []string
	for _, ty := range p.Types {
		if ty.Name != "Authenticator" {
			continue
		}
		for _, m := range ty.Methods {
			methods = append(methods, m.Name)
			if notPathways[m.Name] {
				continue
			}
			if !strings.Contains(p.Doc, "[Authenticator."+m.Name+"]") {
				t.Errorf("auth's package doc does not describe the pathway Authenticator.%s", m.Name)
			}
		}
	}
	require.GreaterOrEqual(t, len(methods), 8, "found too few Authenticator methods: %v", methods)
	for _, section := range []string{"# Login", "# Brute-force protection", "# Password reset and change", "# Recent authentication"} {
		require.True(t, strings.Contains(p.Doc, "\n"+section+"\n"), "auth's package doc lost its section %q", section)
	}
}

// TestNoPasswordExpiry proves ASVS 5.0 6.2.10 by absence: neither password
// nor auth has a setting or field that ages passwords out or forces a
// periodic change.
func TestNoPasswordExpiry(t *testing.T) {
	t.Parallel()
	bad := regexp.MustCompile(`(?i)(password|pw)(expir|maxage|age|lifetime|rotat)|mustchange|forcechange|changeevery`)
	for _, f := range sourceFiles(t) {
		if !strings.HasPrefix(f.path, "password/") && !strings.HasPrefix(f.path, "auth/") {
			continue
		}
		ast.Inspect(f.file, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && id.IsExported() && bad.MatchString(id.Name) {
				t.Errorf("%s: exported name %s looks like password expiry", f.path, id.Name)
			}
			return true
		})
	}
}

// TestOnlyApprovedHashes proves ASVS 5.0 11.4.1: MD5 and MD4 appear
// nowhere, and SHA-1 only where a standard requires it and no collision
// matters: HMAC-SHA-1 for RFC 6238 TOTP, the prefix the HIBP range API
// indexes by, and redisstore's cluster placement, which must agree with
// Lua's redis.sha1hex to put a user's keys in one bucket (no secret, no
// collision resistance needed: a collision only puts two users in one
// bucket).
func TestOnlyApprovedHashes(t *testing.T) {
	t.Parallel()
	sha1OK := map[string]bool{"mfa/totp.go": true, "mfa/mfatest/code.go": true, // TOTP (mfatest.Code is the app's side)
		"password/breach.go": true, "store/redisstore/session_keys.go": true}
	for _, f := range sourceFiles(t) {
		for _, p := range imports(f.file) {
			switch {
			case p == "crypto/md5" || p == "golang.org/x/crypto/md4":
				t.Errorf("%s imports %s", f.path, p)
			case p == "crypto/sha1" && !sha1OK[f.path]:
				t.Errorf("%s imports crypto/sha1 outside TOTP, HIBP and cluster placement", f.path)
			}
		}
	}
}

// TestLogInventoryNamesEverySource proves ASVS 5.0 16.1.1: every library
// package that reports events (declares an EventType or EventKind) is in
// SECURITY.md's log inventory, so a new source of log records cannot
// appear without its line.
func TestLogInventoryNamesEverySource(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root, "SECURITY.md"))
	require.NoError(t, err)
	text := string(b)
	i := strings.Index(text, "### Log inventory")
	require.GreaterOrEqual(t, i, 0, "SECURITY.md has no log inventory")
	inventory := text[i:]
	inventory = inventory[:strings.Index(inventory, "\n\n| ASVS")]
	sources := map[string]bool{}
	for _, f := range sourceFiles(t) {
		if f.main || strings.HasPrefix(f.path, "internal/") || strings.HasPrefix(f.path, "examples/") {
			continue
		}
		for _, d := range f.file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, sp := range g.Specs {
				if n := sp.(*ast.TypeSpec).Name.Name; n == "EventType" || n == "EventKind" {
					sources[filepath.Dir(f.path)] = true
				}
			}
		}
	}
	require.GreaterOrEqual(t, len(sources), 5, "found too few event sources: %v", sources)
	for pkg := range sources {
		if !strings.Contains(inventory, "`"+pkg+"`") {
			t.Errorf("%s reports events but the log inventory in SECURITY.md does not name it", pkg)
		}
	}
}
