package auth_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/auth/authtest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestUsernameBase(t *testing.T) {
	t.Parallel()
	tests := []struct{ first, last, want string }{
		{"Jan", "Kowalski", "JanKowalski"},
		{"Łukasz", "Żółć", "LukaszZolc"},
		{"Zażółć", "Gęślą Jaźń", "ZazolcGeslaJazn"},
		{"jan", "kowalski", "JanKowalski"},
		{"Anne-Marie", "O'Neil", "AnneMarieONeil"},
		{"Jürgen", "Weiß", "JurgenWeiss"},
		{"Søren", "Kierkegaard", "SorenKierkegaard"},
		{"Ærøskøbing", "Ålesund", "AEroskobingAlesund"},
		{"Þóra", "Guðmundsdóttir", "ThoraGudmundsdottir"},
		{"Đorđe", "Balašević", "DordeBalasevic"},
		{"François", "Cœur", "FrancoisCoeur"},
		{"İsmail", "Yılmaz", "IsmailYilmaz"},
		{"Nguyễn", "Văn Đức", "NguyenVanDuc"},
		{"José María", "Núñez", "JoseMariaNunez"},
		{"Ǆemal", "Bijedić", "DZemalBijedic"},
		{"Иван", "Петров", "IvanPetrov"},
		{"Щукин", "Юлия", "ShchukinYuliya"},
		{"Ёлкин", "Йорг", "ElkinYorg"},
		{"Олександр", "Ґудзь", "OleksandrGudz"},
		{"Ђорђе", "Њего", "DjordjeNjego"},
		{"王", "芳", "WangFang"},
		{"王芳", "", "WangFang"},
		{"李 王", "", "LiWang"},
		{"吕", "布", "LyuBu"},
		{"王", "Smith", "WangSmith"},
		{"Γιώργος", "Παπαδόπουλος", "GiorgosPapadopoulos"},
		{"Ευάγγελος", "Ουρανός", "EvangelosOuranos"},
		{"ΟΥΡΑΝΟΣ", "", "OURANOS"},
		{"김민준", "", "GimMinJun"},
		{"😀", "🎉", "User"},
		{"😀 Anna", "", "Anna"},
		{"محمد", "", "User"},
		{"", "Kowalski", "Kowalski"},
		{"Mary  ", "  van der Berg", "MaryVanDerBerg"},
		{"Jan3", "K0walski", "JanKWalski"},
		{strings.Repeat("a", 40), "b", "A" + strings.Repeat("a", 31)},
	}
	for _, tc := range tests {
		t.Run(tc.first+"_"+tc.last, func(t *testing.T) {
			t.Parallel()
			got, err := auth.UsernameBase(tc.first, tc.last)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestUsernameBaseInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range [][2]string{{"", ""}, {" ", "\t"}, {strings.Repeat("x", 257), "y"}} {
		_, err := auth.UsernameBase(tc[0], tc[1])
		require.ErrorIs(t, err, auth.ErrInvalidName)
	}
}

func TestTransliterateIsASCII(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"Łódź", "ßẞøØæÆœŒđĐðÐþÞıħĦŧŦŋŊĸƒ", "ﬁ Ĳssel", "Ω≈ç√∫˜µ≤≥÷"} {
		out := auth.Transliterate(s)
		for i := 0; i < len(out); i++ {
			require.Less(t, out[i], byte(0x80), "%q -> %q", s, out)
		}
	}
	for _, s := range []string{"Щукин Ёлкин", "Ευάγγελος ΟΥ", "王芳吕", "김민준", "😀🎉"} {
		out := auth.Transliterate(s)
		for i := 0; i < len(out); i++ {
			require.Less(t, out[i], byte(0x80), "%q -> %q", s, out)
		}
	}
	require.Equal(t, "fi IJssel", auth.Transliterate("ﬁ Ĳssel"))
	require.Equal(t, "Ivan Petrov", auth.Transliterate("Иван Петров"))
	require.Equal(t, " wang  fang ", auth.Transliterate("王芳"))
	require.Equal(t, "Lodz", auth.Transliterate("Łódź"))
	require.Equal(t, "Lukasz Zolc", auth.Transliterate("Łukasz Żółć")) // formerly ExampleTransliterate
}

func FuzzUsernameBase(f *testing.F) {
	f.Add("Łukasz", "Żółć")
	f.Add("", "\xff")
	f.Add("Ǆ", "ﬀ")
	f.Add("Иван", "Петров")
	f.Add("王芳", "吕")
	f.Add("Ευάγγελος", "ΟΥ")
	f.Add("김민준", "😀")
	f.Add("ο", "\u03c5")
	f.Fuzz(func(t *testing.T, first, last string) {
		got, err := auth.UsernameBase(first, last)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidName) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if got == "" || len(got) > 32 {
			t.Fatalf("base %q has bad length", got)
		}
		for i := 0; i < len(got); i++ {
			c := got[i]
			if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
				t.Fatalf("base %q has a non-letter", got)
			}
		}
	})
}

func TestGenerateUsername(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewAuthStore()
	name, err := auth.GenerateUsername(ctx, st, "Jan", "Kowalski", "u1", time.Now(), nil)
	require.NoError(t, err)
	require.Regexp(t, `^JanKowalski[1-9][0-9]$`, name)
	// The claim is case-insensitive.
	err = st.Claim(ctx, auth.Claim{Kind: auth.ClaimUsername, Key: auth.UsernameKey(strings.ToUpper(name)), Owner: "u2"})
	require.ErrorIs(t, err, auth.ErrTaken)
}

// TestGenerateUsernameWidens fills every two-digit number and checks the
// generator moves to three digits.
func TestGenerateUsernameWidens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewAuthStore()
	for n := 10; n <= 99; n++ {
		require.NoError(t, st.Claim(ctx, auth.Claim{Kind: auth.ClaimUsername, Key: fmt.Sprintf("annanowak%d", n), Owner: "x"}))
	}
	name, err := auth.GenerateUsername(ctx, st, "Anna", "Nowak", "u1", time.Now(), rand.Reader)
	require.NoError(t, err)
	require.Regexp(t, `^AnnaNowak[1-9][0-9]{2,}$`, name)
}

type failingClaims struct{ err error }

func (f failingClaims) Claim(context.Context, auth.Claim) error               { return f.err }
func (f failingClaims) Release(context.Context, string, string, string) error { return f.err }

func TestGenerateUsernameErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, err := auth.GenerateUsername(ctx, failingClaims{auth.ErrTaken}, "A", "B", "u", time.Now(), nil)
	require.ErrorIs(t, err, auth.ErrUsernameExhausted)
	boom := errors.New("db down")
	_, err = auth.GenerateUsername(ctx, failingClaims{boom}, "A", "B", "u", time.Now(), nil)
	require.ErrorIs(t, err, boom)
	_, err = auth.GenerateUsername(ctx, failingClaims{nil}, "", "", "u", time.Now(), nil)
	require.ErrorIs(t, err, auth.ErrInvalidName)
}

func TestGenerateUsernameConcurrent(t *testing.T) {
	t.Parallel()
	st := memstore.NewAuthStore()
	authtest.ConcurrentUsernames(t, []auth.ClaimStore{st}, 200)
}

// FuzzTransliterate checks that any input comes out as ASCII and that the
// output stays within a constant factor of the input (names are attacker
// input: the cost must be bounded).
func FuzzTransliterate(f *testing.F) {
	for _, s := range []string{"Łódź", "Иван", "王芳", "Ευάγγελος", "김", "ﷺ", "\xff\xfe", "ου"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := auth.Transliterate(s)
		for i := 0; i < len(out); i++ {
			if out[i] >= 0x80 {
				t.Fatalf("%q -> %q: not ASCII", s, out)
			}
		}
		if len(out) > 20*len(s)+20 {
			t.Fatalf("%q -> %d bytes: expansion unbounded", s, len(out))
		}
	})
}

// BenchmarkUsernameBaseWorstCase measures the largest accepted input (two
// 256-byte names of Han characters, which go through the pinyin library)
// against the same size of ASCII, in one run.
func BenchmarkUsernameBaseWorstCase(b *testing.B) {
	han := strings.Repeat("王", 85)
	ascii := strings.Repeat("a", 255)
	b.Run("han", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = auth.UsernameBase(han, han)
		}
	})
	b.Run("ascii", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = auth.UsernameBase(ascii, ascii)
		}
	})
}
