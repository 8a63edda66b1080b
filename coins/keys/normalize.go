package keys

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// pyIsSpace reports whether Python 3's str.isspace() (and so str.split() and
// str.strip() without arguments) treats r as whitespace. It is Go's
// unicode.IsSpace plus the information separators U+001C..U+001F, which
// Python counts as whitespace (bidirectional class B/S).
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pySplit is Python's s.split(): fields separated by runs of whitespace, no
// empty fields.
func pySplit(s string) []string { return strings.FieldsFunc(s, pyIsSpace) }

// pyStrip is Python's s.strip().
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// cjkIntervals is Electrum 4.3.4's mnemonic.CJK_INTERVALS.
var cjkIntervals = [...][2]rune{
	{0x4E00, 0x9FFF}, {0x3400, 0x4DBF}, {0x20000, 0x2A6DF}, {0x2A700, 0x2B73F},
	{0x2B740, 0x2B81F}, {0xF900, 0xFAFF}, {0x2F800, 0x2FA1D}, {0x3190, 0x319F},
	{0x2E80, 0x2EFF}, {0x2F00, 0x2FDF}, {0x31C0, 0x31EF}, {0x2FF0, 0x2FFF},
	{0xE0100, 0xE01EF}, {0x3100, 0x312F}, {0x31A0, 0x31BF}, {0xFF00, 0xFFEF},
	{0x3040, 0x309F}, {0x30A0, 0x30FF}, {0x31F0, 0x31FF}, {0x1B000, 0x1B0FF},
	{0xAC00, 0xD7AF}, {0x1100, 0x11FF}, {0xA960, 0xA97F}, {0xD7B0, 0xD7FF},
	{0x3130, 0x318F}, {0xA4D0, 0xA4FF}, {0x16F00, 0x16F9F}, {0xA000, 0xA48F},
	{0xA490, 0xA4CF},
}

// isCJK is Electrum's mnemonic.is_CJK.
func isCJK(r rune) bool {
	for _, iv := range cjkIntervals {
		if r >= iv[0] && r <= iv[1] {
			return true
		}
	}
	return false
}

// normalizeText is Electrum 4.3.4's mnemonic.normalize_text: NFKD, Python's
// lower(), removal of combining characters (canonical combining class != 0),
// whitespace collapsed to single spaces (Python's split/join), and removal of
// the spaces between two CJK characters. Invalid UTF-8 is first replaced by
// U+FFFD, as a Python str could not hold it.
func normalizeText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = norm.NFKD.String(s)
	s = pyLower(s)
	// remove accents
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if norm.NFKD.PropertiesString(string(r)).CCC() != 0 {
			continue
		}
		b.WriteRune(r)
	}
	s = strings.Join(pySplit(b.String()), " ")
	// remove whitespaces between CJK
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i, r := range rs {
		if r == ' ' && i > 0 && i+1 < len(rs) && isCJK(rs[i-1]) && isCJK(rs[i+1]) {
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

// pyLower is Python 3's str.lower(): the full lower-case mapping, which
// differs from Go's per-rune simple mapping in two places: U+0130 (capital I
// with dot) becomes "i" + U+0307, and a capital sigma in final position
// (Unicode's Final_Sigma context) becomes U+03C2 (final small sigma).
func pyLower(s string) string {
	if !strings.ContainsRune(s, 'Σ') && !strings.ContainsRune(s, 'İ') {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(rs, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma is CPython's handle_capital_sigma: the sigma at i is final when
// preceded by a cased letter (skipping case-ignorable characters) and not
// followed by one (again skipping case-ignorable characters).
func finalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && caseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !cased(rs[j]) {
		return false
	}
	j = i + 1
	for j < len(rs) && caseIgnorable(rs[j]) {
		j++
	}
	return j == len(rs) || !cased(rs[j])
}

// cased is Unicode's Cased property (Lu, Ll, Lt, Other_Lowercase, Other_Uppercase).
func cased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// caseIgnorable is Unicode's Case_Ignorable property: Mn, Me, Cf, Lm, Sk and
// the Word_Break classes MidLetter, MidNumLet and Single_Quote.
func caseIgnorable(r rune) bool {
	switch r {
	case 0x27, 0x2E, 0x3A, 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
