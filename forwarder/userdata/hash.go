package userdata

import (
	"crypto/sha256"
	"encoding/hex"
)

// sha256Hex returns the SHA-256 of s as lowercase hexadecimal.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
