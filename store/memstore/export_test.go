package memstore

import "github.com/bulwarkhq/bulwark/session"

// SessionIndexLen reports how many entries the expiry index of st (from
// [NewSessionStore]) holds, so that tests can check it stays bounded.
func SessionIndexLen(st session.Store) int {
	m := st.(*sessionStore)
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.expiries)
}
