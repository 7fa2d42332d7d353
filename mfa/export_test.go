package mfa

// Internal parsers, exported to the external tests for fuzzing, and the
// TOTP code computation, for the RFC 6238 vector tests.
var (
	ParseCode         = parseCode
	NormalizeDigits   = normalizeDigits
	ParseRecoveryCode = parseRecoveryCode
	RandomDigits      = randomDigits
	Code              = code

	ErrNoSTARTTLS = errNoSTARTTLS
)
