package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretLen is the shortest HS256 secret, in bytes, that [NewJWT] and
// [Mint] accept: 32 bytes, the size of the SHA-256 output (RFC 7518 §3.2).
const MinSecretLen = 32

// minRSABits is the smallest RSA modulus accepted for RS256.
const minRSABits = 2048

// The signing algorithms this package accepts, each tied to one key kind.
const (
	algHS256 = "HS256" // JWTConfig.Secret
	algRS256 = "RS256" // RSA public keys of at least 2048 bits
	algES256 = "ES256" // ECDSA public keys on P-256
)

// pemKeys are the public keys parsed from JWTConfig.PublicKeysPEM, by
// algorithm.
type pemKeys struct {
	rsa []jwt.VerificationKey
	ec  []jwt.VerificationKey
}

// parsePublicKeys parses every PEM block in data. Blocks may be "PUBLIC KEY"
// (PKIX), "RSA PUBLIC KEY" (PKCS #1) or "CERTIFICATE"; private keys and
// anything else are refused, so a private key pasted by mistake is never
// loaded.
func parsePublicKeys(data []byte) (pemKeys, error) {
	var keys pemKeys
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		key, err := parsePEMBlock(block)
		if err != nil {
			return pemKeys{}, fmt.Errorf("auth: PEM block %d: %w", n, err)
		}
		switch k := key.(type) {
		case *rsa.PublicKey:
			if bits := k.N.BitLen(); bits < minRSABits {
				return pemKeys{}, fmt.Errorf("auth: PEM block %d: RSA key of %d bits, want at least %d", n, bits, minRSABits)
			}
			keys.rsa = append(keys.rsa, k)
		case *ecdsa.PublicKey:
			if k.Curve != elliptic.P256() {
				return pemKeys{}, fmt.Errorf("auth: PEM block %d: ECDSA key on %s, want P-256 (ES256)", n, k.Curve.Params().Name)
			}
			keys.ec = append(keys.ec, k)
		default:
			return pemKeys{}, fmt.Errorf("auth: PEM block %d: unsupported key type %T, want RSA or ECDSA P-256", n, key)
		}
	}
	if strings.TrimSpace(string(rest)) != "" {
		return pemKeys{}, errors.New("auth: PublicKeysPEM holds data that is not PEM")
	}
	if len(keys.rsa)+len(keys.ec) == 0 {
		return pemKeys{}, errors.New("auth: PublicKeysPEM holds no PEM block")
	}
	return keys, nil
}

func parsePEMBlock(b *pem.Block) (any, error) {
	switch b.Type {
	case "PUBLIC KEY":
		return x509.ParsePKIXPublicKey(b.Bytes)
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(b.Bytes)
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		return cert.PublicKey, nil
	default:
		if strings.Contains(b.Type, "PRIVATE") {
			return nil, fmt.Errorf("%q: a private key does not belong in PublicKeysPEM", b.Type)
		}
		return nil, fmt.Errorf("unsupported PEM type %q", b.Type)
	}
}

// keyFits reports whether key may verify a token signed with alg. It is
// what makes key confusion impossible: an RSA key never verifies HS256 or
// ES256, and a secret never verifies RS256.
func keyFits(alg string, key any) bool {
	switch alg {
	case algRS256:
		k, ok := key.(*rsa.PublicKey)
		return ok && k.N.BitLen() >= minRSABits
	case algES256:
		k, ok := key.(*ecdsa.PublicKey)
		return ok && k.Curve == elliptic.P256()
	default:
		return false
	}
}
