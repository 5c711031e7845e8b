package gharts

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeJWT is a JWT-shaped string with this exp (unsigned: the provider never verifies).
func fakeJWT(exp time.Time, marker string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"exp":%d,"m":%q}`, exp.Unix(), marker)))
	return "eyJhbGciOiJSUzI1NiJ9." + payload + ".c2ln"
}

func TestKubernetesTokenProviderReReadsAChangedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	exp := time.Now().Add(time.Hour)
	if err := os.WriteFile(path, []byte(fakeJWT(exp, "a")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	provider := NewKubernetesTokenProvider(path)
	ctx := context.Background()

	first, _ := provider.GetToken(ctx)
	again, _ := provider.GetToken(ctx)
	if err := os.WriteFile(path, []byte(fakeJWT(exp, "bb")), 0o600); err != nil {
		t.Fatal(err)
	}
	rotated, err := provider.GetToken(ctx)

	if err != nil || first != fakeJWT(exp, "a") || again != first || rotated != fakeJWT(exp, "bb") {
		t.Errorf("first %q, again %q, rotated %q (%v)", first, again, rotated, err)
	}
}

func TestKubernetesTokenProviderReReadsATokenAboutToExpire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	now := time.Now()
	if err := os.WriteFile(path, []byte(fakeJWT(now.Add(time.Hour), "a")), 0o600); err != nil {
		t.Fatal(err)
	}
	provider := NewKubernetesTokenProvider(path)
	ctx := context.Background()
	if _, err := provider.GetToken(ctx); err != nil {
		t.Fatal(err)
	}
	// Same size and modification time: only the expiry can make the provider look again.
	info, _ := os.Stat(path)
	if err := os.WriteFile(path, []byte(fakeJWT(now.Add(time.Hour), "b")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}

	cached, _ := provider.GetToken(ctx)
	provider.now = func() time.Time { return now.Add(time.Hour - 10*time.Second) }
	reread, _ := provider.GetToken(ctx)

	if cached != fakeJWT(now.Add(time.Hour), "a") || reread != fakeJWT(now.Add(time.Hour), "b") {
		t.Errorf("cached %q, re-read %q", cached, reread)
	}
}

func TestKubernetesTokenProviderSaysWhatIsWrongWithTheFile(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "missing"): "no such file",
		empty:                         "is empty",
	} {
		_, err := NewKubernetesTokenProvider(path).GetToken(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}
