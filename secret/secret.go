// Package secret holds the keys that protect personal data at rest: a blind
// index key, for looking up a value (an identity number, a phone number)
// without storing it, and an encryption key, for storing it sealed.
//
// Both are derived with HKDF-SHA256 from one master secret: AIDHUB_SECRET
// when it is set, otherwise the file secret.key in the data folder, which
// Load creates on first use. Losing the master secret loses every sealed
// value and every blind index; back it up with the database.
//
// Keys never appear in errors or formatted output.
package secret

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode/utf8"
)

const (
	// MinMasterSize is the least number of bytes of a master secret.
	MinMasterSize = 32

	// FileName is the name of the key file in the data folder.
	FileName = "secret.key"

	// Version is the first byte of every ciphertext Seal returns.
	Version byte = 1

	blindInfo = "aidhub blind index v1"
	sealInfo  = "aidhub seal v1"

	howTo = "make one with `openssl rand -base64 32`"
)

// ErrCannotDecrypt is the error of Open for any ciphertext it cannot open.
var ErrCannotDecrypt = errors.New("secret: cannot decrypt")

// Keys are the subkeys derived from a master secret. They are safe for
// concurrent use. The zero Keys, and a nil *Keys, panic when used.
type Keys struct {
	// The key material sits behind a pointer so that even printing a
	// struct that holds a Keys in an unexported field (where fmt cannot
	// call Format) shows an address, not key bytes.
	k *keys
}

type keys struct {
	blind []byte
	aead  cipher.AEAD
}

// NewKeys derives the keys from a master secret of at least MinMasterSize
// bytes, which should be random.
func NewKeys(master []byte) (*Keys, error) {
	if len(master) < MinMasterSize {
		return nil, fmt.Errorf("secret: the master secret has %d bytes, it needs at least %d", len(master), MinMasterSize)
	}
	blind, err := hkdf.Key(sha256.New, master, nil, blindInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("secret: deriving the blind index key: %w", err)
	}
	seal, err := hkdf.Key(sha256.New, master, nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("secret: deriving the encryption key: %w", err)
	}
	block, err := aes.NewCipher(seal)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return &Keys{&keys{blind: blind, aead: aead}}, nil
}

// Load returns the keys of the master secret envSecret, the value of
// AIDHUB_SECRET, or when it is empty of the key file dataDir/secret.key.
//
// envSecret (surrounding white space trimmed) is read as hex, then as base64
// (standard or URL alphabet, padded or not), and used decoded when that gives
// at least 32 bytes; otherwise it is used as it is when it has at least 32
// characters. Anything shorter is refused, as is valid hex or padded base64
// that decodes to fewer than 32 bytes (the output of openssl rand -hex 16 has
// 32 characters but only 16 random bytes). A passphrase is not stretched, so
// it is only as strong as it is unpredictable: prefer random bytes.
//
// The key file must hold at least 32 bytes in standard base64 and be readable
// and writable by its owner only (0600 or narrower). When it does not exist,
// Load creates dataDir (0700) if need be and the file with 32 random bytes;
// when several processes do so at once, all of them end with the one file that
// was created first. An empty dataDir is the current folder.
//
// Errors are one line and never contain key material.
func Load(envSecret, dataDir string) (*Keys, error) {
	if envSecret = strings.TrimSpace(envSecret); envSecret != "" {
		master, err := parseEnv(envSecret)
		if err != nil {
			return nil, err
		}
		return NewKeys(master)
	}
	if dataDir == "" {
		dataDir = "."
	}
	path := filepath.Join(dataDir, FileName)
	master, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		master, err = createFile(dataDir, path)
	}
	if err != nil {
		return nil, err
	}
	return NewKeys(master)
}

func parseEnv(s string) ([]byte, error) {
	tooShort := fmt.Errorf("AIDHUB_SECRET is too short: it needs at least %d random bytes in base64 or hex, or %d characters; %s", MinMasterSize, MinMasterSize, howTo)
	// Plainly hex, or padded base64: refuse rather than fall back to the
	// characters when it decodes to too few bytes (openssl rand -hex 16).
	if b, err := hex.DecodeString(s); err == nil {
		if len(b) < MinMasterSize {
			return nil, tooShort
		}
		return checkRandom(b, "AIDHUB_SECRET")
	}
	if strings.HasSuffix(s, "=") {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				if len(b) < MinMasterSize {
					return nil, tooShort
				}
				return checkRandom(b, "AIDHUB_SECRET")
			}
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) >= MinMasterSize {
			return checkRandom(b, "AIDHUB_SECRET")
		}
	}
	if utf8.RuneCountInString(s) >= MinMasterSize {
		return checkRandom([]byte(s), "AIDHUB_SECRET")
	}
	return nil, tooShort
}

// checkRandom refuses the most obvious non-secrets: one byte repeated, such
// as 64 zeros in hex.
func checkRandom(b []byte, what string) ([]byte, error) {
	if bytes.Count(b, b[:1]) == len(b) {
		return nil, fmt.Errorf("%s is not random (one byte repeated); %s", what, howTo)
	}
	return b, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("cannot read the key file %s: %v", path, unwrapPath(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read the key file %s: %v", path, unwrapPath(err))
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("the key file %s is not a regular file", path)
	}
	// Windows has no such permissions; its ACLs are the administrator's.
	if perm := info.Mode().Perm(); perm&^0o600 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("the key file %s has permissions %04o, it must be readable by its owner only: chmod 600 %s", path, perm, path)
	}
	// A valid file is about 45 bytes; do not read a huge one whole.
	const limit = 4096
	content, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the key file %s: %v", path, unwrapPath(err))
	}
	malformed := fmt.Errorf("the key file %s is malformed: it must hold at least %d random bytes in base64 (%s); restore it from a backup, or remove it only if nothing was stored with it yet", path, MinMasterSize, howTo)
	if len(content) > limit {
		return nil, malformed
	}
	master, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(content)))
	if err != nil || len(master) < MinMasterSize {
		return nil, malformed
	}
	if _, err := checkRandom(master, "the key file "+path); err != nil {
		return nil, err
	}
	return master, nil
}

// createFile writes a new key to a temporary file and links it to path, which
// fails if path exists: the first process to link wins, and every other one
// reads the winner's key. A reader never sees a partly written file.
func createFile(dataDir, path string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the data folder %s: %v", dataDir, unwrapPath(err))
	}
	master := make([]byte, MinMasterSize)
	rand.Read(master) // never fails (it crashes the program instead)

	tmp, err := os.CreateTemp(dataDir, "."+FileName+".*.tmp") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("cannot create the key file %s: %v", path, unwrapPath(err))
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(master) + "\n")
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("cannot write the key file %s: %v", path, unwrapPath(err))
	}

	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		// Another process was first; use its key.
		master, err := readFile(path)
		if errors.Is(err, fs.ErrNotExist) { // a dangling symbolic link
			return nil, fmt.Errorf("cannot read the key file %s: %v", path, unwrapPath(err))
		}
		return master, err
	} else if err != nil {
		return nil, fmt.Errorf("cannot create the key file %s: %v (set AIDHUB_SECRET instead: %s)", path, unwrapPath(err), howTo)
	}
	syncDir(dataDir)
	return master, nil
}

// syncDir makes the new directory entry durable where the system allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// unwrapPath drops the operation and path of an *fs.PathError or
// *os.LinkError, which the messages name themselves.
func unwrapPath(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// BlindIndex returns HMAC-SHA256(blind index key, purpose || 0x00 || value),
// 32 bytes: equal for equal purposes and values under one master secret, and
// unrelated across purposes. Normalise value first (residentid.Parse does for
// identity numbers). purpose names what is indexed, e.g. "residentId"; it must
// be non-empty and free of NUL bytes, or BlindIndex panics.
func (k *Keys) BlindIndex(purpose, value string) []byte {
	if purpose == "" || strings.IndexByte(purpose, 0) >= 0 {
		panic("secret: BlindIndex purpose must be non-empty and free of NUL bytes")
	}
	m := hmac.New(sha256.New, k.k.blind)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// Overhead is how many bytes longer a ciphertext is than its plaintext: the
// version byte, the 12-byte nonce and the 16-byte tag.
const Overhead = 1 + 12 + 16

// Seal encrypts and authenticates plaintext, and authenticates associatedData
// (which is not stored: Open needs the same) with AES-256-GCM under a random
// 12-byte nonce. The result is Version, the nonce and the sealed text. Pass as
// associated data what the value belongs to (say, table, column and row ID),
// so a ciphertext copied elsewhere does not open. Random nonces keep one key
// safe for about 2³² Seal calls. The error is always nil at present.
func (k *Keys) Seal(plaintext, associatedData []byte) ([]byte, error) {
	out := make([]byte, 1, Overhead+len(plaintext))
	out[0] = Version
	return k.k.aead.Seal(out, nil, plaintext, associatedData), nil
}

// Open returns the plaintext of a ciphertext from Seal under the same master
// secret and associated data. Any other input (another version, truncated,
// altered, other associated data or key) gives ErrCannotDecrypt.
func (k *Keys) Open(ciphertext, associatedData []byte) ([]byte, error) {
	if len(ciphertext) < Overhead || ciphertext[0] != Version {
		return nil, ErrCannotDecrypt
	}
	plaintext, err := k.k.aead.Open(nil, nil, ciphertext[1:], associatedData)
	if err != nil {
		return nil, ErrCannotDecrypt
	}
	return plaintext, nil
}

const redacted = "secret.Keys{…}"

// String returns "secret.Keys{…}".
func (Keys) String() string { return redacted }

// GoString returns "secret.Keys{…}".
func (Keys) GoString() string { return redacted }

// Format prints "secret.Keys{…}" for every verb and flag.
func (Keys) Format(f fmt.State, _ rune) { fmt.Fprint(f, redacted) }
