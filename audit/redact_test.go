package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestDefaultRedactor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		field, value, want string
		redacted           bool
	}{
		{"email", "a@example.com", "a@example.com", false},
		{"password", "hunter2", "[REDACTED]", true},
		{"new_password", "x", "[REDACTED]", true},
		{"userPassword", "x", "[REDACTED]", true},
		{"API Key", "x", "[REDACTED]", true},
		{"client_secret", "x", "[REDACTED]", true},
		{"refreshToken", "x", "[REDACTED]", true},
		{"note", "Bearer abc.def", "[REDACTED]", true},
		{"note", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "[REDACTED]", true},
		{"note", "ghp_0123456789abcdefABCDEF0123456789abcd", "[REDACTED]", true},
		{"note", "AKIAIOSFODNN7EXAMPLE", "[REDACTED]", true},
		{"note", "-----BEGIN RSA PRIVATE KEY-----\nMII", "[REDACTED]", true},
		{"note", "q8Zt2vX9kLmN4pR7sW1yB3dF6gH0jK5a", "[REDACTED]", true},
		{"id", "0190a6d8-1234-7abc-8def-0123456789ab", "0190a6d8-1234-7abc-8def-0123456789ab", false},
		{"note", "the quick brown fox jumps over the lazy dog", "the quick brown fox jumps over the lazy dog", false},
		{"card", "4111 1111 1111 1111", "**** **** **** 1111", true},
		{"note", "paid with 4111-1111-1111-1111 today", "paid with **** **** **** 1111 today", true},
		{"note", "5500005555555559", "**** **** **** 5559", true},
		{"note", "4111 1111 1111 1112", "4111 1111 1111 1112", false}, // fails Luhn
		{"phone", "+44 20 7946 0958", "+44 20 7946 0958", false},
		{"note", "order 12345678901234567890123", "order 12345678901234567890123", false}, // too long
		{"note", "ref 1234 4111 1111 1111 1111", "ref 1234 **** **** **** 1111", true},    // card after a group
		{"note", "4111111111111111 and 5500 0055 5555 5559", "**** **** **** 1111 and **** **** **** 5559", true},
		{"note", "tel 0044-20-7946-0958", "tel 0044-20-7946-0958", false},
	}
	for _, c := range cases {
		got, red := audit.DefaultRedactor(c.field, c.value)
		require.Equal(t, c.want, got, "%s=%q", c.field, c.value)
		require.Equal(t, c.redacted, red, "%s=%q", c.field, c.value)
	}
}

type profile struct {
	Name     string
	Email    string `audit:"email_address"`
	Password string `audit:"-"`
	IBAN     string `audit:"iban,redact"`
	Token    string // caught by the redactor by name
	Born     time.Time
	Address  struct{ City, Street string }
	Tags     []string
	Age      *int
	internal string
}

func TestDiffStructs(t *testing.T) {
	t.Parallel()
	age := 30
	a := profile{Name: "Ann", Email: "a@x", Password: "p1", IBAN: "DE1", Token: "t1", Tags: []string{"x"}, internal: "a"}
	b := a
	b.Email, b.Password, b.IBAN, b.Token, b.internal = "b@x", "p2", "DE2", "t2", "b"
	b.Address.City = "Berlin"
	b.Age = &age
	b.Born = time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC)
	ch, err := audit.Diff(a, &b)
	require.NoError(t, err)
	require.Equal(t, []audit.Change{
		{Field: "email_address", Old: "a@x", New: "b@x"},
		{Field: "iban", Old: "[REDACTED]", New: "[REDACTED]", Redacted: true},
		{Field: "token", Old: "t1", New: "t2"},
		{Field: "born", Old: "", New: "1990-01-02T00:00:00Z"},
		{Field: "address.city", Old: "", New: "Berlin"},
		{Field: "age", Old: "", New: "30"},
	}, ch)

	created, err := audit.Diff(nil, &profile{Name: "Zed"})
	require.NoError(t, err)
	require.Equal(t, []audit.Change{{Field: "name", New: "Zed"}}, created)

	none, err := audit.Diff(a, a)
	require.NoError(t, err)
	require.Empty(t, none)

	_, err = audit.Diff(a, 3)
	require.ErrorIs(t, err, audit.ErrDiffTypes)
	_, err = audit.Diff(map[int]string{}, map[int]string{})
	require.ErrorIs(t, err, audit.ErrDiffTypes)
}

func TestDiffMaps(t *testing.T) {
	t.Parallel()
	ch, err := audit.Diff(map[string]any{"a": 1, "b": "x", "c": true}, map[string]any{"a": 2, "b": "x", "d": nil})
	require.NoError(t, err)
	require.Equal(t, []audit.Change{
		{Field: "a", Old: "1", New: "2"},
		{Field: "c", Old: "true", New: ""},
	}, ch)
}

func TestEscape(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"plain":                      "plain",
		"a\nb":                       `a\nb`,
		"evil\r\n2026 fake=line":     `evil\r\n2026 fake=line`,
		"\x1b[31mred":                `\x1b[31mred`,
		`quote " and \ `:             `quote \" and \\ `,
		"bidi \u202egnp.exe":         `bidi \u202egnp.exe`,
		"zero\u200bwidth":            `zero\u200bwidth`,
		"c1 \u0085 nel":              `c1 \u0085 nel`,
		"bad utf8 \xff":              `bad utf8 \xff`,
		"ünïcödé ok":                 "ünïcödé ok",
		"line sep \u2028 para\u2029": `line sep \u2028 para\u2029`,
	}
	for in, want := range cases {
		require.Equal(t, want, audit.Escape(in), "%q", in)
	}
	ev := audit.Entry{Time: time.Unix(0, 0), Action: "auth.login", UserAgent: "x\"\nfake=1", Changes: []audit.Change{{Field: "f\n", Old: "a", New: "b"}}}
	require.Equal(t, `1970-01-01T00:00:00.000000Z action="auth.login" user_agent="x\"\nfake=1" change.f\n="a -> b"`, ev.String())
}

type diffCredential struct {
	User     string
	Password string `audit:"-"`
	PIN      string `audit:"pin,redact"`
	APIKey   string
}

type diffAccount struct {
	Creds []diffCredential
	Main  *diffCredential
	Meta  map[string]string
	Any   map[string]any
}

// Tags and sensitive names must hold inside slices and maps too: a field
// tagged audit:"-" in a struct inside a slice, or a "password" key in a
// nested map, must not reach the log through the rendering of the outer
// value.
func TestDiffNestedSecrets(t *testing.T) {
	t.Parallel()
	var old diffAccount
	cur := diffAccount{
		Creds: []diffCredential{{User: "alice", Password: "hunter2", PIN: "4321", APIKey: "k-plain-1"}},
		Meta:  map[string]string{"api_token": "tok-plain-2", "colour": "blue"},
		Any:   map[string]any{"x": map[string]any{"password": "pw-plain-3"}, "n": []any{1, map[string]string{"secret": "s-plain-4"}}},
	}
	ch, err := audit.Diff(old, cur)
	require.NoError(t, err)
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
	rec, err := l.Append(context.Background(), audit.Entry{Action: "record.updated", Changes: ch})
	require.NoError(t, err)
	all, err := audit.Diff(map[string]any{}, map[string]any{"profile": map[string]any{"password": "pw-plain-5"}})
	require.NoError(t, err)
	rendered := fmt.Sprint(ch, all, rec.Changes)
	for _, secret := range []string{"hunter2", "4321", "k-plain-1", "tok-plain-2", "pw-plain-3", "s-plain-4", "pw-plain-5"} {
		require.NotContains(t, rendered, secret)
	}
	require.Contains(t, rendered, "alice")
	require.Contains(t, rendered, "blue")
}

// Error strings and messages logged as details carry secrets inline: a
// connection URL's password, "password=..." in a DSN or a form dump. The
// field is named "error" or "msg", so the name check cannot catch them.
func TestDefaultRedactorInlineSecrets(t *testing.T) {
	t.Parallel()
	cases := []struct{ value, secret, keep string }{
		{`dial postgres://app:s3cr3t-pw@db.internal:5432/prod: connection refused`, "s3cr3t-pw", "db.internal"},
		{`open redis://:r3dis-pw@cache:6379/0 failed`, "r3dis-pw", "cache"},
		{`host=db user=app password=hunter2 dbname=prod`, "hunter2", "dbname=prod"},
		{`login failed: {"user":"bob","password":"pa ss"}`, "pa ss", "bob"},
		{`retry with api_key: k-123abc, attempt 2`, "k-123abc", "attempt 2"},
		{`POST /login?user=bob&token=tok987&next=/`, "tok987", "next=/"},
		{`upstream said 401; sent Authorization: Bearer abc.def-123 to api`, "abc.def-123", "to api"},
	}
	for _, c := range cases {
		got, red := audit.DefaultRedactor("error", c.value)
		require.True(t, red, c.value)
		require.NotContains(t, got, c.secret, c.value)
		require.Contains(t, got, c.keep, c.value)
	}
	for _, v := range []string{"meeting at 12:30", "see https://example.com/a:b@c", "ratio 3:1, key=value"} {
		got, _ := audit.DefaultRedactor("note", v)
		if v != "see https://example.com/a:b@c" {
			require.Equal(t, v, got)
		}
	}
}

// Common spellings of secret fields beyond the obvious ones.
func TestSensitiveFieldSpellings(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"pwd", "new_pwd", "privKey", "signing_key", "encryptionKey", "master_key",
		"verification_code", "resetCode", "mfa_code", "security_answer"} {
		require.True(t, audit.SensitiveField(name), name)
	}
	for _, name := range []string{"email", "shipping_address", "footprint", "passport_country", "keyword", "zip_code"} {
		require.False(t, audit.SensitiveField(name), name)
	}
}

type diffCategory struct {
	Name   string
	Parent *diffCategory
	Tags   []*diffCategory
}

// A self-referential model (a category with a parent) is common; Diff
// must neither recurse forever over its type nor follow a pointer cycle.
func TestDiffRecursiveTypes(t *testing.T) {
	t.Parallel()
	ch, err := audit.Diff(diffCategory{Name: "a"}, diffCategory{Name: "b"})
	require.NoError(t, err)
	require.Equal(t, []audit.Change{{Field: "name", Old: "a", New: "b"}}, ch)

	root := &diffCategory{Name: "root"}
	cyc := &diffCategory{Name: "c", Parent: root}
	root.Parent = cyc // a cycle
	root.Tags = []*diffCategory{root}
	ch, err = audit.Diff(diffCategory{Name: "x"}, diffCategory{Name: "x", Parent: root})
	require.NoError(t, err)
	require.NotEmpty(t, ch)
	require.Equal(t, "parent.name", ch[0].Field)
	require.Less(t, len(ch), 100)
}

type diffWide struct {
	A, B, C, D *diffWide
	Name       string
}

// A pointer cycle through several fields must cost bounded work to render.
func TestDiffWideCycleBounded(t *testing.T) {
	t.Parallel()
	w := &diffWide{Name: "w"}
	w.A, w.B, w.C, w.D = w, w, w, w
	ch, err := audit.Diff(map[string]any{}, map[string]any{"graph": []*diffWide{w}})
	require.NoError(t, err)
	require.Len(t, ch, 1)
	_, err = audit.Diff(w, w) // the same cycle on both sides: no changes to stop at
	require.NoError(t, err)
	_, err = audit.Diff(diffWide{}, w)
	require.NoError(t, err)
}
