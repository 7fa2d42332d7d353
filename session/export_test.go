package session

// HashToken exposes hashToken to the package's external tests: the
// SHA-256 under which a store keeps token, and false if token is not well
// formed.
var HashToken = hashToken
