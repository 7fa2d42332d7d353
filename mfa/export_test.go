package mfa

// Internal parsers, exported to the external tests for fuzzing.
var (
	ParseCode         = parseCode
	NormalizeDigits   = normalizeDigits
	ParseRecoveryCode = parseRecoveryCode
	RandomDigits      = randomDigits
)
