package password

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinel errors. Each names the calls that return it; compare with
// [errors.Is]. None of them, and no error this package returns, contains a
// password, a pepper or a hash.
var (
	// ErrMismatch is returned by [Hasher.Verify] when the password does not
	// match the hash.
	ErrMismatch = errors.New("password: mismatch")
	// ErrMalformedHash is returned by [Hasher.Verify] for an empty,
	// malformed or unknown-algorithm hash string.
	ErrMalformedHash = errors.New("password: malformed hash")
	// ErrParamsTooLarge is returned by [Hasher.Verify] when a stored hash asks
	// for more memory, time, parallelism, salt or output than the caps in
	// [Limits] allow.
	ErrParamsTooLarge = errors.New("password: hash parameters exceed limits")
	// ErrUnknownPepper is returned by [Hasher.Verify] when a hash names a
	// pepper id the hasher does not hold.
	ErrUnknownPepper = errors.New("password: unknown pepper id")
	// ErrTooLong is returned by [Hasher.Hash] and [Hasher.Verify] for input
	// longer than 4096 bytes, and by [Generate] for a length above the
	// policy's maximum.
	ErrTooLong = errors.New("password: too long")
	// ErrInvalidConfig is returned by [New], [Generate], [Passphrase]
	// and [Calibrate] for an unusable configuration.
	ErrInvalidConfig = errors.New("password: invalid configuration")
	// ErrBreachCheck wraps a [BreachChecker] failure (network, status,
	// malformed response). [Policy.Check] reports it through the hook, and
	// returns it inside a [PolicyError] only when
	// [Policy.BlockOnBreachCheckError] is set.
	ErrBreachCheck = errors.New("password: breach check unavailable")
)

// Code is a stable identifier of a violated policy rule, for translation.
// Codes never change meaning once released.
type Code string

// Rule codes reported in a [PolicyError].
const (
	CodeTooShort      Code = "too_short"      // Params: "min", "actual"
	CodeTooLong       Code = "too_long"       // Params: "max", "actual"
	CodeInvalidUTF8   Code = "invalid_utf8"   // Params: none
	CodeMinUpper      Code = "min_upper"      // Params: "min", "actual"
	CodeMinLower      Code = "min_lower"      // Params: "min", "actual"
	CodeMinDigit      Code = "min_digit"      // Params: "min", "actual"
	CodeMinSpecial    Code = "min_special"    // Params: "min", "actual"
	CodeCommon        Code = "common"         // Params: "rank" (1 = most common)
	CodeContextWord   Code = "context_word"   // Params: "index" (position of the word in the supplied list)
	CodeBreached      Code = "breached"       // Params: none
	CodeBreachUnknown Code = "breach_unknown" // Params: none; only with BlockOnBreachCheckError
)

// Violation is one violated rule with its parameters.
type Violation struct {
	Code   Code
	Params map[string]int
}

func (v Violation) String() string {
	if len(v.Params) == 0 {
		return string(v.Code)
	}
	keys := make([]string, 0, len(v.Params))
	for k := range v.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, v.Params[k])
	}
	return string(v.Code) + "(" + strings.Join(parts, ",") + ")"
}

// PolicyError lists every rule a password violates, in a stable order. It
// never contains the password or the context words themselves, only their
// positions.
type PolicyError struct {
	Violations []Violation
	// Err is the cause of a [CodeBreachUnknown] violation, wrapping
	// [ErrBreachCheck]; nil otherwise.
	Err error
}

func (e *PolicyError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	return "password: policy violated: " + strings.Join(parts, ", ")
}

// Unwrap returns the breach-check cause, if any.
func (e *PolicyError) Unwrap() error { return e.Err }

// Has reports whether the error lists a violation with code c.
func (e *PolicyError) Has(c Code) bool {
	for _, v := range e.Violations {
		if v.Code == c {
			return true
		}
	}
	return false
}
