package keypair

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/crypto/ssh"
)

// sshLine is the "type base64 [comment]" shape pyca/cryptography's
// load_ssh_public_key accepts, which Nova uses to validate imports.
var sshLine = regexp.MustCompile(`\A(\S+)[ \t]+(\S+)`)

// Fingerprint computes a public key's fingerprint the way Nova does for
// its type: MD5 of the SSH key blob, or SHA-1 of the x509 certificate,
// as colon-separated hex. Malformed keys are a 400 with Nova's message.
func Fingerprint(keyType, publicKey string) (string, error) {
	switch keyType {
	case TypeSSH:
		return sshFingerprint(publicKey)
	case TypeX509:
		return x509Fingerprint(publicKey)
	}
	return "", invalidKeypair(fmt.Sprintf("unknown key pair type %q", keyType))
}

func sshFingerprint(publicKey string) (string, error) {
	failed := invalidKeypair("failed to generate fingerprint")
	m := sshLine.FindStringSubmatch(publicKey)
	if m == nil {
		return "", failed
	}
	blob, ok := pyBase64(m[2])
	if !ok {
		return "", failed
	}
	key, err := ssh.ParsePublicKey(blob)
	if err != nil || key.Type() != m[1] {
		return "", failed
	}
	// Nova hashes the second space-separated field, not the parsed key.
	fields := strings.Split(publicKey, " ")
	if len(fields) < 2 {
		return "", failed
	}
	data, ok := pyBase64(fields[1])
	if !ok {
		return "", failed
	}
	sum := md5.Sum(data)
	return colonHex(sum[:]), nil
}

func x509Fingerprint(publicKey string) (string, error) {
	fail := func(msg string) error {
		return invalidKeypair("failed to generate X509 fingerprint. Error message: " + msg)
	}
	rest := []byte(publicKey)
	for {
		block, next := pem.Decode(rest)
		if block == nil {
			if len(rest) == len(publicKey) {
				return "", fail("Unable to load PEM file. See https://cryptography.io/en/latest/faq/#why-can-t-i-import-my-pem-file for more details. MalformedFraming")
			}
			return "", fail("Valid PEM but no BEGIN CERTIFICATE/END CERTIFICATE delimiters. Are you sure this is a certificate?")
		}
		rest = next
		switch block.Type {
		case "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE":
		default:
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return "", fail("error parsing asn1 value: " + err.Error())
		}
		sum := sha1.Sum(cert.Raw)
		return colonHex(sum[:]), nil
	}
}

// pyBase64 decodes like Python's non-strict base64 decoders: characters
// outside the alphabet are skipped, padding is required.
func pyBase64(s string) ([]byte, bool) {
	var b strings.Builder
	for _, r := range s {
		if r == '+' || r == '/' || r == '=' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	data, err := base64.StdEncoding.DecodeString(b.String())
	if err != nil {
		return nil, false
	}
	return data, true
}

func colonHex(sum []byte) string {
	h := hex.EncodeToString(sum)
	parts := make([]string, 0, len(h)/2)
	for i := 0; i+1 < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}
