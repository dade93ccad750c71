package keypair

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os/exec"
	"time"

	"golang.org/x/crypto/ssh"
)

// keyBits is the RSA size Nova generates (crypto.generate_key_pair).
const keyBits = 2048

// generated is a freshly made pair: the public half to store, the
// private half to return once.
type generated struct {
	publicKey  string
	privateKey string
}

// generate makes a key pair of keyType for userID as Nova does: an RSA
// SSH key with a PKCS#1 PEM private key, or a client certificate whose
// private key comes as a base64 PKCS#12 bundle with an empty password.
func generate(ctx context.Context, keyType, userID string) (generated, error) {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return generated{}, fmt.Errorf("generate RSA key: %w", err)
	}
	if keyType == TypeX509 {
		return generateX509(ctx, key, userID)
	}
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	if err != nil {
		return generated{}, fmt.Errorf("encode SSH public key: %w", err)
	}
	return generated{
		publicKey: pub.Type() + " " + base64.StdEncoding.EncodeToString(pub.Marshal()) + " Generated-by-Nova",
		privateKey: string(pem.EncodeToMemory(&pem.Block{
			Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key),
		})),
	}, nil
}

// upnOID is Microsoft's User Principal Name otherName, which WinRM
// certificate authentication maps to a user.
var upnOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}

// generateX509 issues the self-signed WinRM client certificate Nova's
// generate_winrm_x509_cert makes: CN=<user>, ten years, clientAuth, UPN
// <user>@localhost.
func generateX509(ctx context.Context, key *rsa.PrivateKey, userID string) (generated, error) {
	san, err := upnSAN(userID + "@localhost")
	if err != nil {
		return generated{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return generated{}, fmt.Errorf("certificate serial: %w", err)
	}
	now := time.Now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		Subject:         pkix.Name{CommonName: userID},
		NotBefore:       now,
		NotAfter:        now.AddDate(0, 0, 3650),
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		ExtraExtensions: []pkix.Extension{san},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return generated{}, fmt.Errorf("create certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	bundle, err := pkcs12Export(ctx, append(append([]byte{}, keyPEM...), certPEM...))
	if err != nil {
		return generated{}, err
	}
	return generated{publicKey: string(certPEM), privateKey: base64.StdEncoding.EncodeToString(bundle)}, nil
}

// upnSAN is a subjectAltName extension holding one UPN otherName:
// SEQUENCE { [0] { OID, [0] EXPLICIT UTF8String } }.
func upnSAN(upn string) (pkix.Extension, error) {
	value, err := asn1.MarshalWithParams(upn, "utf8")
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encode UPN: %w", err)
	}
	explicit, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: value})
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encode UPN value: %w", err)
	}
	oid, err := asn1.Marshal(upnOID)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encode UPN type: %w", err)
	}
	otherName, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(oid, explicit...)})
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encode otherName: %w", err)
	}
	names, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: otherName})
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encode subjectAltName: %w", err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: names}, nil
}

// pkcs12Export bundles a PEM key and certificate (key first: openssl
// reads it from the same stream before the certificate) as PKCS#12 with an empty
// password. Like Nova, it uses the openssl command, which must be
// installed to generate x509 key pairs.
func pkcs12Export(ctx context.Context, certAndKey []byte) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "openssl", "pkcs12", "-export", "-password", "pass:")
	cmd.Stdin = bytes.NewReader(certAndKey)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("openssl pkcs12 -export: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out.Bytes(), nil
}
