package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// dotenvCases are .env files in the shapes decouple meets: quotes,
// comments, odd whitespace and line ends, repeated keys.
var dotenvCases = map[string]string{
	"plain":          "BTC_PORT=5999\nBTC_LOGIN=merchant\n",
	"spaces":         "  BTC_LOGIN  =  merchant  \n\tBTC_PASSWORD\t=\tp w\t\n",
	"quotes":         "A='single'\nB=\"double\"\nC='mismatch\"\nD='\nE=''\nF=\"\"\nG='it's'\nH= \" padded \" \n",
	"comments":       "# comment\n  # indented comment\nA=1 # not a comment\nB=#x\n#C=3\n",
	"no equals":      "JUSTAWORD\n\nA==b\n=novalue\n",
	"crlf":           "A=1\r\nB=2\r\n",
	"cr only":        "A=1\rB=2\r",
	"repeated":       "A=1\nA=2\n",
	"unicode spaces": "\u00a0A=1\u00a0\n\u3000B=\u20282\u2029\n\x1cC=3\x1f\n",
	"export":         "export A=1\n",
	"equals in val":  "URL=ws://u:p=q@h:1/?a=b\n",
	"empty":          "",
	"bom":            "\ufeffA=1\nB=2\n",
	"vertical tab":   "A=1\x0bB=2\n",
}

func TestParseDotenv(t *testing.T) {
	for name, want := range map[string]map[string]string{
		"plain":    {"BTC_PORT": "5999", "BTC_LOGIN": "merchant"},
		"spaces":   {"BTC_LOGIN": "merchant", "BTC_PASSWORD": "p w"},
		"quotes":   {"A": "single", "B": "double", "C": "'mismatch\"", "D": "'", "E": "", "F": "", "G": "it's", "H": " padded "},
		"comments": {"A": "1 # not a comment", "B": "#x"},
		"repeated": {"A": "2"},
		"crlf":     {"A": "1", "B": "2"},
		"cr only":  {"A": "1", "B": "2"},
	} {
		got, err := parseDotenv([]byte(dotenvCases[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	if _, err := parseDotenv([]byte("A=\xff\n")); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}

// TestParseDotenvMatchesDecouple runs python-decouple's own RepositoryEnv
// (Debian's python3-decouple) on every case and compares.
func TestParseDotenvMatchesDecouple(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for name, content := range dotenvCases {
		f := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".env")
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	script := `
import json, sys, decouple
out = {}
for f in sys.argv[1:]:
    out[f] = decouple.RepositoryEnv(f).data
print(json.dumps(out))
`
	args := []string{"-c", script}
	for _, n := range names {
		args = append(args, filepath.Join(dir, strings.ReplaceAll(n, " ", "_")+".env"))
	}
	out, err := exec.Command("/usr/bin/python3", args...).Output()
	if err != nil {
		t.Fatalf("running python-decouple (Debian's python3-decouple, scripts/deps.d/security.apt): %v", err)
	}
	var want map[string]map[string]string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(names) {
		t.Fatalf("decouple parsed %d files of %d", len(want), len(names))
	}
	for _, n := range names {
		got, err := parseDotenv([]byte(dotenvCases[n]))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		w := want[filepath.Join(dir, strings.ReplaceAll(n, " ", "_")+".env")]
		if len(got) == 0 && len(w) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: walletd %q, decouple %q", n, got, w)
		}
	}
}

// TestFindSettingsFile: ./conf first, then each parent directory up to
// the root (excluded), settings.ini before .env in each, as decouple's
// AutoConfig(search_path="conf").
func TestFindSettingsFile(t *testing.T) {
	root := t.TempDir()
	work := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(filepath.Join(work, "conf"), 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(p, content string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if f, err := findSettingsFile(work); err != nil || strings.HasPrefix(f, root) {
		t.Fatalf("nothing there yet, found %q (%v)", f, err)
	}
	write(filepath.Join(root, "a", ".env"), "BTC_PORT=1\n")
	if f, _ := findSettingsFile(work); f != filepath.Join(root, "a", ".env") {
		t.Errorf("parent's .env not found: %q", f)
	}
	write(filepath.Join(work, ".env"), "BTC_PORT=2\n")
	if f, _ := findSettingsFile(work); f != filepath.Join(work, ".env") {
		t.Errorf("nearer .env not preferred: %q", f)
	}
	write(filepath.Join(work, "conf", ".env"), "BTC_PORT=3\n")
	if f, _ := findSettingsFile(work); f != filepath.Join(work, "conf", ".env") {
		t.Errorf("conf/.env not preferred: %q", f)
	}
	vars, path, err := readSettingsFile(work)
	if err != nil || path != filepath.Join(work, "conf", ".env") || vars["BTC_PORT"] != "3" {
		t.Errorf("read: %v %q %v", vars, path, err)
	}
	write(filepath.Join(work, "conf", "settings.ini"), "[settings]\nBTC_PORT=4\n")
	if _, path, err := readSettingsFile(work); err == nil || !strings.Contains(err.Error(), "settings.ini") || !strings.HasSuffix(path, "settings.ini") {
		t.Errorf("settings.ini (read before .env by decouple) not refused: %q %v", path, err)
	}
	if err := os.Mkdir(filepath.Join(root, "dirs", ""), 0o700); err != nil {
		t.Fatal(err)
	}
	// A directory named .env is not a file.
	if err := os.MkdirAll(filepath.Join(root, "dirs", "conf", ".env"), 0o700); err != nil {
		t.Fatal(err)
	}
	if f, _ := findSettingsFile(filepath.Join(root, "dirs")); f == filepath.Join(root, "dirs", "conf", ".env") {
		t.Error("a directory taken for a settings file")
	}
}

// TestApplySettingsEnvironmentWins: a variable already in the
// environment, even empty, keeps its value; others come from the file;
// only the coin's variables are taken.
func TestApplySettingsEnvironmentWins(t *testing.T) {
	t.Setenv("BTC_LOGIN", "fromenv")
	t.Setenv("BTC_PASSWORD", "")
	for _, k := range []string{"BTC_PORT", "IN_DOCKER", "LTC_PORT"} {
		t.Setenv(k, "") // registers the restore
		os.Unsetenv(k)
	}
	set, ignored, err := applySettings("BTC", map[string]string{"BTC_LOGIN": "fromfile", "BTC_PASSWORD": "fromfile",
		"BTC_PORT": "5999", "IN_DOCKER": "1", "LTC_PORT": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("BTC_LOGIN") != "fromenv" || os.Getenv("BTC_PASSWORD") != "" || os.Getenv("BTC_PORT") != "5999" {
		t.Errorf("env after: login %q password %q port %q", os.Getenv("BTC_LOGIN"), os.Getenv("BTC_PASSWORD"), os.Getenv("BTC_PORT"))
	}
	if _, ok := os.LookupEnv("IN_DOCKER"); ok {
		t.Error("IN_DOCKER taken from the file (Bitcart reads it from the environment only)")
	}
	if strings.Join(set, ",") != "BTC_PORT" || len(ignored) != 2 {
		t.Errorf("set %v ignored %v", set, ignored)
	}
}

// FuzzParseDotenv: any input either is refused (invalid UTF-8) or yields
// keys and values that are stripped, single-line and not comments.
func FuzzParseDotenv(f *testing.F) {
	for _, c := range dotenvCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		vars, err := parseDotenv(b)
		if err != nil {
			return
		}
		for k, v := range vars {
			if k != pyStrip(k) || strings.ContainsAny(k, "\r\n") || strings.HasPrefix(k, "#") || strings.Contains(k, "=") {
				t.Fatalf("bad key %q", k)
			}
			if strings.ContainsAny(v, "\r\n") {
				t.Fatalf("bad value %q", v)
			}
		}
	})
}
