package keyring

// ErrInvalidMasterKey lets the external tests match the error that
// ParseMasterKey and NewLocalKEK return for a key of the wrong size.
var ErrInvalidMasterKey = errInvalidMasterKey
