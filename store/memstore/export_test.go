package memstore

// SessionIndexLen reports how many entries the expiry index of st holds,
// so that tests can check it stays bounded.
func SessionIndexLen(st *SessionStore) int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return len(st.expiries)
}
