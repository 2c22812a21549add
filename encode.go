package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf16"
)

// Bodies that survive a receiver's re-serialization.
//
// Some products tell their customers to verify a signature over the
// payload as their language writes it again: Smarter Launch's Python
// snippet signs json.dumps(payload), its PHP one json_encode. Such a
// receiver accepts a body only if re-serializing the parsed body gives
// the same bytes. MarshalJSON writes what JavaScript's JSON.stringify
// writes; MarshalPythonJSON and MarshalPHPJSON write what Python's
// json.dumps and PHP's json_encode write with their default options.
// EnvelopeWith puts any of them behind DefaultEnvelope's shape; a custom
// envelope calls one directly.

// MarshalPythonJSON marshals v as encoding/json does (struct tags,
// MarshalJSON methods, map keys sorted) and writes the result the way
// Python's json.dumps writes it by default, so that
// json.dumps(json.loads(body)) gives the same bytes back:
//
//   - ", " between items and ": " after keys;
//   - every character outside printable ASCII escaped as \uXXXX
//     (lower-case hex, a surrogate pair beyond U+FFFF; ensure_ascii=True),
//     with \b, \f, \n, \r and \t for those controls; "/" and <, >, & raw;
//   - floats as Python's repr writes them: 0.1, 1.0, 1e-05, 1e+16. A
//     number written as a float (with ".", "e" or "E") is a float, one
//     written as an integer stays an integer, as json.loads reads them;
//     negative zero is written -0.0.
//
// It fails where encoding/json fails, and on a number (from a
// json.RawMessage or json.Number) that is beyond float64's range, which
// json.dumps would write as Infinity.
func MarshalPythonJSON(v any) ([]byte, error) {
	return reencodeValue(v, pythonForm)
}

// MarshalPHPJSON marshals v as encoding/json does and writes the result
// the way PHP's json_encode writes it with no flags, so that
// json_encode(json_decode(body)) gives the same bytes back:
//
//   - no spaces;
//   - "/" escaped as \/, every character beyond ASCII as \uXXXX
//     (lower-case hex, a surrogate pair beyond U+FFFF), \b, \f, \n, \r and
//     \t for those controls, other controls as \u00XX; DEL and <, >, &, '
//     raw;
//   - floats as PHP writes them with serialize_precision -1: 0.1, 1.0e-5,
//     1.0e+25, and an integral float without its fraction (1.0 is 1). An
//     integer beyond int64, which json_decode reads as a float, is written
//     as that float (9.2233720368547758e+18); zero is 0, whatever its sign,
//     since json_decode reads -0 as the integer 0.
//
// Two differences come from PHP, not from the bytes. json_decode($body,
// true), which most receivers call, turns objects into arrays: an empty
// object {} comes back as [], and an object whose keys are "0", "1", …
// in order comes back as a list. Receivers that decode into arrays
// therefore re-serialize such data differently; with json_decode($body)
// (objects as stdClass) they do not. Keep empty objects and list-like keys
// out of Data, or use slices and omitempty, when receivers decode into
// arrays.
func MarshalPHPJSON(v any) ([]byte, error) {
	return reencodeValue(v, phpForm)
}

// EnvelopeWith returns DefaultEnvelope's shape (keys id, type, timestamp,
// tenant_id, data) written by marshal: MarshalJSON (which gives
// DefaultEnvelope itself), MarshalPythonJSON, MarshalPHPJSON, or a marshal
// function of your own. Use it as Config.Envelope:
//
//	cfg := &webhook.Config{Envelope: webhook.EnvelopeWith(webhook.MarshalPythonJSON)}
func EnvelopeWith(marshal func(any) ([]byte, error)) func(Event) ([]byte, error) {
	return func(ev Event) ([]byte, error) {
		return marshal(newEnvelope(ev))
	}
}

// jsonForm is how one serializer writes JSON.
type jsonForm struct {
	comma, colon string
	str          func(dst []byte, s string) []byte
	num          func(dst []byte, lit string) ([]byte, error)
}

var (
	pythonForm = jsonForm{comma: ", ", colon: ": ", str: pythonString, num: pythonNumber}
	phpForm    = jsonForm{comma: ",", colon: ":", str: phpString, num: phpNumber}
)

func reencodeValue(v any, f jsonForm) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return reencode(b, f)
}

// reencode writes the JSON document b again in form f, keeping the order
// of object keys.
func reencode(b []byte, f jsonForm) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type level struct {
		object bool
		n      int // keys and values (object) or items (array) so far
	}
	var stack []level
	out := make([]byte, 0, len(b)+len(b)/8)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			out = append(out, byte(d))
			continue
		}
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			switch {
			case top.object && top.n%2 == 1:
				out = append(out, f.colon...)
			case top.n > 0:
				out = append(out, f.comma...)
			}
			top.n++
		}
		switch t := tok.(type) {
		case json.Delim:
			out = append(out, byte(t))
			stack = append(stack, level{object: t == '{'})
		case string:
			out = f.str(out, t)
		case json.Number:
			if out, err = f.num(out, string(t)); err != nil {
				return nil, err
			}
		case bool:
			out = strconv.AppendBool(out, t)
		case nil:
			out = append(out, "null"...)
		}
	}
	return out, nil
}

const hexDigits = "0123456789abcdef"

// appendU writes \uXXXX in lower-case hex, as Python and PHP do.
func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// appendEscapedRune writes r as an escape, a surrogate pair beyond U+FFFF.
func appendEscapedRune(dst []byte, r rune) []byte {
	if r > 0xffff {
		hi, lo := utf16.EncodeRune(r)
		return appendU(appendU(dst, hi), lo)
	}
	return appendU(dst, r)
}

// shortEscape is the two-character escape Python and PHP both use.
func shortEscape(r rune) (byte, bool) {
	switch r {
	case '"':
		return '"', true
	case '\\':
		return '\\', true
	case '\b':
		return 'b', true
	case '\f':
		return 'f', true
	case '\n':
		return 'n', true
	case '\r':
		return 'r', true
	case '\t':
		return 't', true
	}
	return 0, false
}

// pythonString writes s as json.dumps does with ensure_ascii=True.
func pythonString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for _, r := range s {
		if c, ok := shortEscape(r); ok {
			dst = append(dst, '\\', c)
		} else if r >= ' ' && r <= '~' {
			dst = append(dst, byte(r))
		} else {
			dst = appendEscapedRune(dst, r)
		}
	}
	return append(dst, '"')
}

// phpString writes s as json_encode does with no flags.
func phpString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for _, r := range s {
		if c, ok := shortEscape(r); ok {
			dst = append(dst, '\\', c)
		} else if r == '/' {
			dst = append(dst, '\\', '/')
		} else if r >= ' ' && r <= 0x7f {
			dst = append(dst, byte(r))
		} else {
			dst = appendEscapedRune(dst, r)
		}
	}
	return append(dst, '"')
}

// isFloatLiteral reports whether a JSON number is written as a float,
// which Python and PHP then read as one.
func isFloatLiteral(lit string) bool {
	return bytes.ContainsAny([]byte(lit), ".eE")
}

// errNumberRange is a number no float64 holds.
var errNumberRange = errors.New("beyond the range of a float64")

func parseFloat(lit string) (float64, error) {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("webhook: number %.40s: %w", lit, errNumberRange)
	}
	return f, nil
}

// shortestDigits returns the shortest decimal digits that read back as
// |f| (f finite, not zero) and the position of the decimal point: |f| is
// 0.<digits> × 10^decpt, as dtoa, which Python and PHP use, reports it.
func shortestDigits(f float64) (digits string, decpt int) {
	s := strconv.FormatFloat(math.Abs(f), 'e', -1, 64) // "1.2345e+17"
	e := bytes.IndexByte([]byte(s), 'e')
	exp, _ := strconv.Atoi(s[e+1:])
	digits = s[:1]
	if e > 1 {
		digits += s[2:e]
	}
	return digits, exp + 1
}

func appendZeros(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, '0')
	}
	return dst
}

// pythonNumber writes a number as json.dumps(json.loads(lit)) does: an
// integer as it is (Python's ints have no limit), a float as repr.
func pythonNumber(dst []byte, lit string) ([]byte, error) {
	if !isFloatLiteral(lit) {
		if lit == "-0" { // encoding/json's float -0
			return append(dst, "-0.0"...), nil
		}
		return append(dst, lit...), nil
	}
	f, err := parseFloat(lit)
	if err != nil {
		return nil, err
	}
	return appendPythonFloat(dst, f), nil
}

// appendPythonFloat writes f as Python's repr(float) does.
func appendPythonFloat(dst []byte, f float64) []byte {
	if math.Signbit(f) {
		dst = append(dst, '-')
	}
	if f == 0 {
		return append(dst, "0.0"...)
	}
	digits, decpt := shortestDigits(f)
	switch {
	case decpt <= -4 || decpt > 16: // 1e-05, 1.5e+16
		dst = append(dst, digits[0])
		if len(digits) > 1 {
			dst = append(append(dst, '.'), digits[1:]...)
		}
		exp := decpt - 1
		dst = append(dst, 'e')
		if exp < 0 {
			dst, exp = append(dst, '-'), -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	case decpt <= 0: // 0.0001
		return append(appendZeros(append(dst, '0', '.'), -decpt), digits...)
	case decpt >= len(digits): // 100.0
		return append(appendZeros(append(dst, digits...), decpt-len(digits)), '.', '0')
	}
	return append(append(append(dst, digits[:decpt]...), '.'), digits[decpt:]...) // 1.5
}

// phpNumber writes a number as json_encode(json_decode(lit)) does: an
// integer within int64 as it is, anything else as PHP writes a float.
func phpNumber(dst []byte, lit string) ([]byte, error) {
	if !isFloatLiteral(lit) {
		if _, err := strconv.ParseInt(lit, 10, 64); err == nil {
			if lit == "-0" {
				return append(dst, '0'), nil
			}
			return append(dst, lit...), nil
		}
	}
	f, err := parseFloat(lit)
	if err != nil {
		return nil, err
	}
	return appendPHPFloat(dst, f), nil
}

// appendPHPFloat writes f as json_encode does with serialize_precision -1
// (php_gcvt with 17 digits in mode 0), except that negative zero is 0:
// json_encode writes -0, which json_decode reads as the integer 0.
func appendPHPFloat(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0')
	}
	if f < 0 {
		dst = append(dst, '-')
	}
	digits, decpt := shortestDigits(f)
	switch {
	case decpt < -3 || decpt > 17: // 1.0e-5, 1.0e+25
		dst = append(dst, digits[0], '.')
		if len(digits) > 1 {
			dst = append(dst, digits[1:]...)
		} else {
			dst = append(dst, '0')
		}
		exp := decpt - 1
		dst = append(dst, 'e')
		if exp < 0 {
			dst, exp = append(dst, '-'), -exp
		} else {
			dst = append(dst, '+')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	case decpt <= 0: // 0.0001
		return append(appendZeros(append(dst, '0', '.'), -decpt), digits...)
	case decpt >= len(digits): // 100
		return appendZeros(append(dst, digits...), decpt-len(digits))
	}
	return append(append(append(dst, digits[:decpt]...), '.'), digits[decpt:]...) // 1.5
}
