package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bitcart's daemons read their settings with python-decouple's
// AutoConfig(search_path="conf"): the process environment first, then the
// first settings file found in ./conf, then in each parent directory up to
// (not including) the root, settings.ini before .env in each. walletd does
// the same for .env files; a settings.ini found first stops start-up (its
// ConfigParser dialect is not read), so that no setting is silently
// ignored.

// maxDotenvBytes bounds the settings file read (decouple has no bound; a
// real one is a few hundred bytes).
const maxDotenvBytes = 1 << 20

// findSettingsFile returns the settings file decouple's AutoConfig would
// read when started in dir, or "" when there is none.
func findSettingsFile(dir string) (string, error) {
	p, err := filepath.Abs(filepath.Join(dir, "conf"))
	if err != nil {
		return "", err
	}
	root := filepath.VolumeName(p) + string(filepath.Separator)
	for {
		for _, name := range []string{"settings.ini", ".env"} {
			f := filepath.Join(p, name)
			if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
				return f, nil
			}
		}
		parent := filepath.Dir(p)
		if parent == "" || parent == root || parent == p {
			return "", nil
		}
		p = parent
	}
}

// readSettingsFile reads the settings file of dir (see findSettingsFile):
// its variables, and the file's path ("" with a nil map when there is none).
func readSettingsFile(dir string) (map[string]string, string, error) {
	path, err := findSettingsFile(dir)
	if err != nil || path == "" {
		return nil, "", err
	}
	if filepath.Base(path) == "settings.ini" {
		return nil, path, fmt.Errorf("%s: settings.ini files are not read by walletd; move its settings to "+
			"conf/.env (KEY=value lines) or to the environment", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, path, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxDotenvBytes+1))
	if err != nil {
		return nil, path, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxDotenvBytes {
		return nil, path, fmt.Errorf("%s: larger than %d bytes", path, maxDotenvBytes)
	}
	vars, err := parseDotenv(b)
	if err != nil {
		return nil, path, fmt.Errorf("%s: %w", path, err)
	}
	return vars, path, nil
}

// parseDotenv is python-decouple 3.8's RepositoryEnv: the file is UTF-8
// (anything else is an error, as Python's decoder raises); lines end at
// "\n", "\r\n" or "\r" (Python's universal newlines); each line is stripped
// of Unicode whitespace (str.strip); empty lines, lines starting with "#"
// and lines without "=" are skipped; the key is what precedes the first
// "=", the value what follows, both stripped; a value of two or more
// characters wrapped in a matching pair of single or double quotes loses
// that pair (only it: no escapes, no inline comments, no "export"). A later
// line wins over an earlier one with the same key.
func parseDotenv(b []byte) (map[string]string, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("not valid UTF-8")
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = pyStrip(line)
		if line == "" || strings.HasPrefix(line, "#") || !strings.Contains(line, "=") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		k, v = pyStrip(k), pyStrip(v)
		if len(v) >= 2 && (v[0] == '\'' && v[len(v)-1] == '\'' || v[0] == '"' && v[len(v)-1] == '"') {
			v = v[1 : len(v)-1]
		}
		out[k] = v
	}
	return out, nil
}

// pyStrip is Python 3's str.strip(): Unicode whitespace plus the
// information separators U+001C..U+001F, which Python counts as space.
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) })
}

// applySettings sets, in the process environment, every variable of vars
// named <prefix>_… that the environment does not already have (the
// environment wins, even with an empty value, as in decouple). It returns
// the names it set, and the names of vars it ignored because Bitcart reads
// them only from the environment or not at all.
func applySettings(prefix string, vars map[string]string) (set, ignored []string, err error) {
	for k, v := range vars {
		if !strings.HasPrefix(k, prefix+"_") {
			ignored = append(ignored, k)
			continue
		}
		if _, inEnv := os.LookupEnv(k); inEnv {
			continue
		}
		if err := os.Setenv(k, v); err != nil {
			return set, ignored, fmt.Errorf("setting %s: %w", k, err)
		}
		set = append(set, k)
	}
	return set, ignored, nil
}
