package auth

import (
	"crypto/rand"
	"io"
	"math/big"
)

func randOrDefault(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

func randInt(r io.Reader, max *big.Int) (int64, error) {
	n, err := rand.Int(r, max)
	if err != nil {
		return 0, err
	}
	return n.Int64(), nil
}
