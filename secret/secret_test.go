package secret_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aidhub/aidhub/secret"
)

// seq returns n bytes 0, 1, 2, …
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func random(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

func newKeys(t *testing.T, master []byte) *secret.Keys {
	t.Helper()
	k, err := secret.NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sameKeys reports whether a and b were derived from one master secret.
func sameKeys(t *testing.T, a, b *secret.Keys) bool {
	t.Helper()
	if !bytes.Equal(a.BlindIndex("test", "value"), b.BlindIndex("test", "value")) {
		return false
	}
	c, err := a.Seal([]byte("plaintext"), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Open(c, nil)
	return err == nil && string(p) == "plaintext"
}

func TestNewKeys_MasterSize(t *testing.T) {
	for _, tc := range []struct {
		n  int
		ok bool
	}{{0, false}, {1, false}, {16, false}, {31, false}, {32, true}, {33, true}, {64, true}, {1000, true}} {
		k, err := secret.NewKeys(seq(tc.n))
		if tc.ok != (err == nil) || tc.ok != (k != nil) {
			t.Errorf("NewKeys(%d bytes) = %v, %v", tc.n, k, err)
		}
	}
}

func TestSeal_RoundTrip(t *testing.T) {
	k := newKeys(t, random(t))
	big := make([]byte, 1<<20)
	rand.Read(big)
	for _, tc := range []struct {
		name      string
		plaintext []byte
		ad        []byte
	}{
		{"empty, no AD", nil, nil},
		{"empty plaintext with AD", []byte{}, []byte("row 1")},
		{"one byte", []byte{0}, nil},
		{"identity number", []byte("11010519491231002X"), []byte("households.resident_id 42")},
		{"Chinese", []byte("重庆市渝中区解放碑街道"), []byte("address")},
		{"binary", seq(256), seq(100)},
		{"1 MiB", big, []byte("blob")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := k.Seal(tc.plaintext, tc.ad)
			if err != nil {
				t.Fatal(err)
			}
			if len(c) != len(tc.plaintext)+secret.Overhead || secret.Overhead != 29 {
				t.Errorf("ciphertext has %d bytes for %d of plaintext", len(c), len(tc.plaintext))
			}
			if c[0] != 1 || secret.Version != 1 {
				t.Errorf("version byte %d", c[0])
			}
			if len(tc.plaintext) >= 8 && bytes.Contains(c, tc.plaintext) {
				t.Error("ciphertext contains the plaintext")
			}
			p, err := k.Open(c, tc.ad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p, tc.plaintext) {
				t.Errorf("Open = %x, want %x", p, tc.plaintext)
			}
			c2, _ := k.Seal(tc.plaintext, tc.ad)
			if bytes.Equal(c, c2) || bytes.Equal(c[1:13], c2[1:13]) {
				t.Error("two Seal calls gave the same nonce")
			}
		})
	}
}

func TestSeal_DoesNotAlias(t *testing.T) {
	k := newKeys(t, random(t))
	pt := []byte("11010519491231002X")
	ad := []byte("ad")
	c, _ := k.Seal(pt, ad)
	if string(pt) != "11010519491231002X" || string(ad) != "ad" {
		t.Fatal("Seal changed its arguments")
	}
	p, _ := k.Open(c, ad)
	p[0] = 'x'
	if p2, _ := k.Open(c, ad); string(p2) != "11010519491231002X" {
		t.Fatal("Open's result shares memory with the ciphertext")
	}
}

// checkCannotDecrypt fails unless err is ErrCannotDecrypt.
func checkCannotDecrypt(t *testing.T, p []byte, err error, what string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: Open = %q, want an error", what, p)
		return
	}
	if !errors.Is(err, secret.ErrCannotDecrypt) || !strings.Contains(err.Error(), "cannot decrypt") || err.Error() != "secret: cannot decrypt" {
		t.Errorf("%s: error %q, want ErrCannotDecrypt", what, err)
	}
	if p != nil {
		t.Errorf("%s: Open returned %q with the error", what, p)
	}
}

func TestOpen_Tampered(t *testing.T) {
	k := newKeys(t, random(t))
	ad := []byte("households.resident_id 42")
	c, _ := k.Seal([]byte("11010519491231002X"), ad)
	for i := range c {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(c)
			bad[i] ^= mask
			p, err := k.Open(bad, ad)
			checkCannotDecrypt(t, p, err, fmt.Sprintf("byte %d ^ %#x", i, mask))
		}
	}
	if p, err := k.Open(c, ad); err != nil || string(p) != "11010519491231002X" {
		t.Fatalf("the original no longer opens: %q, %v", p, err)
	}
}

func TestOpen_Truncated(t *testing.T) {
	k := newKeys(t, random(t))
	c, _ := k.Seal([]byte("11010519491231002X"), nil)
	for n := range len(c) {
		p, err := k.Open(c[:n], nil)
		checkCannotDecrypt(t, p, err, fmt.Sprintf("first %d bytes", n))
	}
	for n := 1; n < len(c); n++ {
		p, err := k.Open(c[n:], nil)
		checkCannotDecrypt(t, p, err, fmt.Sprintf("without the first %d bytes", n))
	}
	p, err := k.Open(append(bytes.Clone(c), 0), nil)
	checkCannotDecrypt(t, p, err, "one byte appended")
	p, err = k.Open(nil, nil)
	checkCannotDecrypt(t, p, err, "nil")
}

func TestOpen_WrongVersion(t *testing.T) {
	k := newKeys(t, random(t))
	c, _ := k.Seal([]byte("secret"), nil)
	for _, v := range []byte{0, 2, 3, 0x81, 0xff} {
		bad := bytes.Clone(c)
		bad[0] = v
		p, err := k.Open(bad, nil)
		checkCannotDecrypt(t, p, err, fmt.Sprintf("version %d", v))
	}
}

func TestOpen_AssociatedData(t *testing.T) {
	k := newKeys(t, random(t))
	for _, tc := range []struct {
		seal, open string
		ok         bool
	}{
		{"households.resident_id 42", "households.resident_id 42", true},
		{"households.resident_id 42", "households.resident_id 43", false},
		{"households.resident_id 42", "households.phone 42", false},
		{"households.resident_id 42", "", false},
		{"", "households.resident_id 42", false},
		{"a", "A", false},
		{"a", "a\x00", false},
		{"", "", true},
	} {
		c, _ := k.Seal([]byte("11010519491231002X"), []byte(tc.seal))
		p, err := k.Open(c, []byte(tc.open))
		if tc.ok {
			if err != nil || string(p) != "11010519491231002X" {
				t.Errorf("AD %q/%q: Open = %q, %v", tc.seal, tc.open, p, err)
			}
			continue
		}
		checkCannotDecrypt(t, p, err, fmt.Sprintf("AD %q/%q", tc.seal, tc.open))
	}
}

func TestOpen_WrongKey(t *testing.T) {
	a, b := newKeys(t, random(t)), newKeys(t, random(t))
	c, _ := a.Seal([]byte("secret"), nil)
	p, err := b.Open(c, nil)
	checkCannotDecrypt(t, p, err, "other key")
}

// The derivation and the format are fixed: values sealed and indexed today
// must open and match in every later version. These vectors were checked
// against an independent HKDF (RFC 5869) and AES-GCM implementation.
const (
	katBlindIndex = "be2e95bba8100b48d526ec2b13421f229c176c993e885519a2eb3ca7fff07eed"
	katCiphertext = "01f58db39b89f8744675c3c9134401c6d47439f5213ed160f05136b9c9efcd4988c06cd6b1ceaa6d78196f239c3ea7"
)

func TestKnownAnswers(t *testing.T) {
	k := newKeys(t, seq(32))
	if got := hex.EncodeToString(k.BlindIndex("residentId", "11010519491231002X")); got != katBlindIndex {
		t.Errorf("BlindIndex = %s, want %s", got, katBlindIndex)
	}
	c, _ := hex.DecodeString(katCiphertext)
	p, err := k.Open(c, []byte("households.resident_id 42"))
	if err != nil || string(p) != "11010519491231002X" {
		t.Errorf("Open(known ciphertext) = %q, %v", p, err)
	}
}

// TestBlindIndex_Definition recomputes the index as specified:
// HMAC-SHA256(HKDF-SHA256(master, info "aidhub blind index v1"), purpose || 0 || value).
func TestBlindIndex_Definition(t *testing.T) {
	master := random(t)
	k := newKeys(t, master)
	key, err := hkdf.Key(sha256.New, master, nil, "aidhub blind index v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range [][2]string{{"residentId", "11010519491231002X"}, {"phone", "13800138000"}, {"p", ""}, {"名字", "张三"}} {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(tc[0] + "\x00" + tc[1]))
		if got := k.BlindIndex(tc[0], tc[1]); !bytes.Equal(got, m.Sum(nil)) {
			t.Errorf("BlindIndex(%q, %q) = %x, want %x", tc[0], tc[1], got, m.Sum(nil))
		}
	}
}

func TestBlindIndex(t *testing.T) {
	master := random(t)
	k := newKeys(t, master)
	again := newKeys(t, master)
	other := newKeys(t, random(t))
	id := "11010519491231002X"

	base := k.BlindIndex("residentId", id)
	if len(base) != 32 {
		t.Fatalf("BlindIndex has %d bytes", len(base))
	}
	for _, tc := range []struct {
		name  string
		got   []byte
		equal bool
	}{
		{"same call again", k.BlindIndex("residentId", id), true},
		{"same master, new Keys", again.BlindIndex("residentId", id), true},
		{"other master", other.BlindIndex("residentId", id), false},
		{"other purpose", k.BlindIndex("phone", id), false},
		{"purpose differs in case", k.BlindIndex("residentid", id), false},
		{"other value", k.BlindIndex("residentId", "11010519491231002x"), false},
		{"value with space", k.BlindIndex("residentId", id+" "), false},
		{"purpose and value run together", k.BlindIndex("residentId1", "1010519491231002X"), false},
		{"empty value", k.BlindIndex("residentId", ""), false},
	} {
		if bytes.Equal(tc.got, base) != tc.equal {
			t.Errorf("%s: equal = %v, want %v", tc.name, !tc.equal, tc.equal)
		}
	}
	// The NUL separator keeps purpose and value apart.
	if bytes.Equal(k.BlindIndex("ab", "c"), k.BlindIndex("a", "bc")) {
		t.Error(`BlindIndex("ab", "c") = BlindIndex("a", "bc")`)
	}
	// The blind index key is not the encryption key, nor the master.
	m := hmac.New(sha256.New, master)
	m.Write([]byte("residentId\x00" + id))
	if bytes.Equal(m.Sum(nil), base) {
		t.Error("BlindIndex uses the master secret directly")
	}
}

func TestBlindIndex_BadPurposePanics(t *testing.T) {
	k := newKeys(t, random(t))
	for _, purpose := range []string{"", "a\x00b", "\x00"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("BlindIndex(%q, …) did not panic", purpose)
				}
			}()
			k.BlindIndex(purpose, "v")
		}()
	}
}

func TestKeys_ConcurrentUse(t *testing.T) {
	k := newKeys(t, random(t))
	want := k.BlindIndex("p", "v")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				pt := []byte(fmt.Sprintf("%d-%d", i, j))
				c, _ := k.Seal(pt, pt)
				if p, err := k.Open(c, pt); err != nil || !bytes.Equal(p, pt) {
					t.Errorf("Open = %q, %v", p, err)
					return
				}
				if !bytes.Equal(k.BlindIndex("p", "v"), want) {
					t.Error("BlindIndex changed")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestKeys_Redacted(t *testing.T) {
	k := newKeys(t, seq(32))
	type holder struct{ K *secret.Keys }
	const r = "secret.Keys{…}"
	for _, tc := range []struct {
		format string
		arg    any
		want   string
	}{
		{"%v", k, r},
		{"%+v", k, r},
		{"%#v", k, r},
		{"%s", k, r},
		{"%q", k, r},
		{"%x", k, r},
		{"%X", k, r},
		{"%d", k, r},
		{"%20v", k, r},
		{"%v", *k, r},
		{"%+v", *k, r},
		{"%#v", *k, r},
		{"%s", *k, r},
		{"%x", *k, r},
		{"%v", holder{k}, "{" + r + "}"},
		{"%+v", holder{k}, "{K:" + r + "}"},
		{"%#v", holder{k}, "secret_test.holder{K:" + r + "}"},
		{"%v", []*secret.Keys{k, k}, "[" + r + " " + r + "]"},
		{"%v", map[string]secret.Keys{"k": *k}, "map[k:" + r + "]"},
		{"%v", fmt.Errorf("wrapped %v", k), "wrapped " + r},
	} {
		if got := fmt.Sprintf(tc.format, tc.arg); got != tc.want {
			t.Errorf("Sprintf(%q, %T) = %q, want %q", tc.format, tc.arg, got, tc.want)
		}
	}
	if k.String() != r || k.GoString() != r || fmt.Sprint(k) != r || fmt.Sprintln(k) != r+"\n" {
		t.Errorf("String %q GoString %q", k.String(), k.GoString())
	}
	var nilKeys *secret.Keys
	if got := fmt.Sprint(nilKeys); got != "<nil>" {
		t.Errorf("Sprint(nil) = %q", got)
	}
}

func TestLoad_CreatesKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	k, err := secret.Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "secret.key")
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	master, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(string(content), "\n"))
	if err != nil || len(master) != 32 || !strings.HasSuffix(string(content), "\n") {
		t.Fatalf("key file holds %q: %d bytes, %v", content, len(master), err)
	}
	if !sameKeys(t, k, newKeys(t, master)) {
		t.Error("Load's keys are not those of the file's master secret")
	}
	if runtime.GOOS != "windows" {
		if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
			t.Errorf("key file mode %v, want 0600", info.Mode())
		}
		if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
			t.Errorf("data folder mode %v, want 0700", info.Mode())
		}
	}

	k2, err := secret.Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !sameKeys(t, k, k2) {
		t.Error("second Load gave other keys")
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, content) {
		t.Error("second Load rewrote the key file")
	}
	assertOnlyKeyFile(t, dir)
}

func assertOnlyKeyFile(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "secret.key" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("data folder holds %v, want only secret.key", names)
	}
}

func TestLoad_EmptyDataDirIsCurrentFolder(t *testing.T) {
	t.Chdir(t.TempDir())
	if _, err := secret.Load("", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("secret.key"); err != nil {
		t.Fatal(err)
	}
}

func TestLoad_Race(t *testing.T) {
	const rounds, racers = 20, 8
	for range rounds {
		dir := t.TempDir()
		start := make(chan struct{})
		keys := make([]*secret.Keys, racers)
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				keys[i], errs[i] = secret.Load("", dir)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("racer %d: %v", i, err)
			}
		}
		content, _ := os.ReadFile(filepath.Join(dir, "secret.key"))
		master, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(content)))
		if err != nil {
			t.Fatal(err)
		}
		fromFile := newKeys(t, master)
		for i, k := range keys {
			if !sameKeys(t, k, fromFile) {
				t.Fatalf("racer %d ended with a key other than the file's", i)
			}
		}
		assertOnlyKeyFile(t, dir)
	}
}

func writeKeyFile(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "secret.key")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkLoadError fails unless err is a one-line error that contains every
// one of want and none of secrets.
func checkLoadError(t *testing.T, err error, want []string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Load succeeded, want an error containing %q", want)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error has more than one line: %q", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
	for _, s := range secrets {
		if s = strings.TrimSpace(s); len(s) >= 4 && strings.Contains(msg, s) {
			t.Errorf("error %q contains the secret %q", msg, s)
		}
	}
}

func TestLoad_FilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	valid := base64.StdEncoding.EncodeToString(random(t)) + "\n"
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true}, {0o400, true}, {0o200, false /* cannot read */}, {0o000, false},
		{0o644, false}, {0o640, false}, {0o604, false}, {0o660, false}, {0o606, false},
		{0o666, false}, {0o700, false}, {0o755, false}, {0o601, false}, {0o610, false},
	} {
		t.Run(fmt.Sprintf("%04o", tc.mode), func(t *testing.T) {
			dir := writeKeyFile(t, valid, tc.mode)
			k, err := secret.Load("", dir)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("Load: %v", err)
			case tc.ok:
				if k == nil {
					t.Fatal("Load returned nil keys")
				}
			case tc.mode&0o400 == 0 && tc.mode&^0o600 == 0:
				if os.Geteuid() == 0 {
					t.Skip("root reads any file")
				}
				checkLoadError(t, err, []string{"cannot read the key file", filepath.Join(dir, "secret.key")}, valid)
			default:
				path := filepath.Join(dir, "secret.key")
				checkLoadError(t, err, []string{path, fmt.Sprintf("permissions %04o", tc.mode), "chmod 600 " + path}, valid)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "secret.key")); tc.mode&0o400 != 0 && string(got) != valid {
				t.Error("Load changed the key file")
			}
		})
	}
}

func TestLoad_MalformedFile(t *testing.T) {
	zeros := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, tc := range []struct {
		name    string
		content string
		want    string
	}{
		{"empty", "", "is malformed"},
		{"only a newline", "\n", "is malformed"},
		{"not base64", "this is not a key, it is a sentence\n", "is malformed"},
		{"16 bytes", base64.StdEncoding.EncodeToString(seq(16)) + "\n", "is malformed"},
		{"31 bytes", base64.StdEncoding.EncodeToString(seq(31)), "is malformed"},
		{"hex of 16 bytes", hex.EncodeToString(seq(16)) + "\n", "is malformed"},
		{"URL base64 with -", "-" + base64.URLEncoding.EncodeToString(seq(32))[1:], "is malformed"},
		{"two keys", base64.StdEncoding.EncodeToString(seq(32)) + "\n" + base64.StdEncoding.EncodeToString(seq(32)) + "\n", "is malformed"},
		{"huge", strings.Repeat("A", 10000), "is malformed"},
		{"zeros", zeros + "\n", "is not random"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeKeyFile(t, tc.content, 0o600)
			_, err := secret.Load("", dir)
			checkLoadError(t, err, []string{filepath.Join(dir, "secret.key"), tc.want}, tc.content)
			if tc.want == "is malformed" {
				checkLoadError(t, err, []string{"openssl rand -base64 32"})
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "secret.key")); string(got) != tc.content {
				t.Error("Load changed the malformed key file")
			}
		})
	}
}

func TestLoad_FileForms(t *testing.T) {
	master := random(t)
	b64 := base64.StdEncoding.EncodeToString(master)
	for _, content := range []string{b64, b64 + "\n", b64 + "\r\n", "  " + b64 + "\n\n", base64.StdEncoding.EncodeToString(append(master, master...))} {
		k, err := secret.Load("", writeKeyFile(t, content, 0o600))
		if err != nil {
			t.Errorf("%q: %v", content, err)
			continue
		}
		if len(content) < 60 && !sameKeys(t, k, newKeys(t, master)) {
			t.Errorf("%q: keys are not the file's", content)
		}
	}
}

func TestLoad_KeyFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "secret.key"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := secret.Load("", dir)
	checkLoadError(t, err, []string{"is not a regular file"})
}

func TestLoad_DanglingSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges")
	}
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "secret.key")); err != nil {
		t.Fatal(err)
	}
	_, err := secret.Load("", dir)
	checkLoadError(t, err, []string{"cannot read the key file"})
}

func TestLoad_Symlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges")
	}
	master := random(t)
	target := writeKeyFile(t, base64.StdEncoding.EncodeToString(master), 0o600)
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(target, "secret.key"), filepath.Join(dir, "secret.key")); err != nil {
		t.Fatal(err)
	}
	k, err := secret.Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !sameKeys(t, k, newKeys(t, master)) {
		t.Error("keys are not the linked file's")
	}
}

func TestLoad_Env(t *testing.T) {
	master := random(t)
	raw := "correct horse battery staple, and then some"
	chinese := strings.Repeat("渝", 31) + "悦"
	for _, tc := range []struct {
		name   string
		env    string
		master []byte // nil: the error contains want
		want   []string
	}{
		{name: "base64", env: base64.StdEncoding.EncodeToString(master), master: master},
		{name: "base64 with newline", env: base64.StdEncoding.EncodeToString(master) + "\n", master: master},
		{name: "base64 unpadded", env: base64.RawStdEncoding.EncodeToString(master), master: master},
		{name: "base64 URL", env: base64.URLEncoding.EncodeToString(master), master: master},
		{name: "base64 URL unpadded", env: base64.RawURLEncoding.EncodeToString(master), master: master},
		{name: "base64 of 64 bytes", env: base64.StdEncoding.EncodeToString(append(master, master...)), master: append(master, master...)},
		{name: "hex", env: hex.EncodeToString(master), master: master},
		{name: "hex upper case", env: strings.ToUpper(hex.EncodeToString(master)), master: master},
		{name: "hex with spaces around", env: "  " + hex.EncodeToString(master) + "\t", master: master},
		{name: "raw 32 characters", env: "0123456789abcdefghijklmnopqrstu!", master: []byte("0123456789abcdefghijklmnopqrstu!")},
		{name: "raw passphrase", env: raw, master: []byte(raw)},
		{name: "raw 32 Chinese characters", env: chinese, master: []byte(chinese)},
		{name: "raw 31 characters", env: "0123456789abcdefghijklmnopqrst!", want: []string{"AIDHUB_SECRET is too short", "openssl rand -base64 32"}},
		{name: "one character", env: "x", want: []string{"AIDHUB_SECRET is too short", "openssl rand -base64 32"}},
		{name: "base64 of 16 bytes", env: base64.StdEncoding.EncodeToString(master[:16]), want: []string{"AIDHUB_SECRET is too short", "openssl rand -base64 32"}},
		{name: "base64 of 31 bytes", env: base64.StdEncoding.EncodeToString(master[:31]), want: []string{"AIDHUB_SECRET is too short"}},
		{name: "hex of 16 bytes (32 characters)", env: hex.EncodeToString(master[:16]), want: []string{"AIDHUB_SECRET is too short", "openssl rand -base64 32"}},
		{name: "hex of 31 bytes", env: hex.EncodeToString(master[:31]), want: []string{"AIDHUB_SECRET is too short"}},
		{name: "32 digits", env: "12345678901234567890123456789012", want: []string{"AIDHUB_SECRET is too short"}},
		{name: "hex zeros", env: strings.Repeat("0", 64), want: []string{"AIDHUB_SECRET is not random", "openssl rand -base64 32"}},
		{name: "one letter repeated", env: strings.Repeat("z", 40), want: []string{"AIDHUB_SECRET is not random"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			k, err := secret.Load(tc.env, dir)
			if tc.master == nil {
				checkLoadError(t, err, tc.want, tc.env)
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !sameKeys(t, k, newKeys(t, tc.master)) {
				t.Error("keys are not those of the secret")
			}
			if _, err := os.Stat(filepath.Join(dir, "secret.key")); !os.IsNotExist(err) {
				t.Error("Load created a key file although AIDHUB_SECRET is set")
			}
		})
	}
}

func TestLoad_EnvOverridesFile(t *testing.T) {
	master := random(t)
	dir := writeKeyFile(t, "malformed", 0o644)
	k, err := secret.Load(base64.StdEncoding.EncodeToString(master), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !sameKeys(t, k, newKeys(t, master)) {
		t.Error("keys are not AIDHUB_SECRET's")
	}
}

func TestLoad_UnwritableDataDir(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs Unix permissions that apply")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	_, err := secret.Load("", dir)
	checkLoadError(t, err, []string{"cannot create the key file", filepath.Join(dir, "secret.key")})
}
