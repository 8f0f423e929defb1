package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// header is the content of a .npy header: a Python dict literal such as
// {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }.
type header struct {
	descr   string
	fortran bool
	shape   []int
}

// headerKeys lists the keys a header must hold, each once, in any order.
var headerKeys = []string{"descr", "fortran_order", "shape"}

// parseHeader parses the header bytes (from after the length to the data), which must end in
// '\n'. Keys may come in any order, spaces are optional, trailing commas allowed.
func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return h, errors.New("the header does not end in a newline")
	}
	p := &lexer{s: string(b[:len(b)-1])}
	p.space()
	if !p.eat('{') {
		return h, fmt.Errorf("the header does not start with '{' (%s)", p.near())
	}
	seen := map[string]bool{}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		if p.done() {
			return h, errors.New("the header has no closing '}'")
		}
		key, err := p.str()
		if err != nil {
			return h, fmt.Errorf("a key: %w", err)
		}
		if seen[key] {
			return h, fmt.Errorf("the key %q appears twice", key)
		}
		seen[key] = true
		p.space()
		if !p.eat(':') {
			return h, fmt.Errorf("no ':' after the key %q (%s)", key, p.near())
		}
		p.space()
		switch key {
		case "descr":
			if p.peek() == '[' {
				return h, errors.New("'descr' is a list of fields: structured arrays are not supported")
			}
			if h.descr, err = p.str(); err != nil {
				return h, fmt.Errorf("'descr': %w", err)
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
				h.fortran = false
			default:
				return h, fmt.Errorf("'fortran_order' is not True or False (%s)", p.near())
			}
		case "shape":
			if h.shape, err = p.shape(); err != nil {
				return h, fmt.Errorf("'shape': %w", err)
			}
		default:
			return h, fmt.Errorf("unknown key %q (a .npy header holds 'descr', 'fortran_order' and 'shape')", key)
		}
		p.space()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			break
		}
		if p.done() {
			return h, errors.New("the header has no closing '}'")
		}
		return h, fmt.Errorf("expected ',' or '}' after the value of %q (%s)", key, p.near())
	}
	p.space()
	if !p.done() {
		return h, fmt.Errorf("text after the closing '}' (%s)", p.near())
	}
	for _, k := range headerKeys {
		if !seen[k] {
			return h, fmt.Errorf("the header lacks the key %q", k)
		}
	}
	return h, nil
}

// lexer reads a Python literal.
type lexer struct {
	s string
	i int
}

func (p *lexer) done() bool { return p.i >= len(p.s) }

func (p *lexer) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

// near describes the position for messages: the next few characters, or the end.
func (p *lexer) near() string {
	if p.done() {
		return "at the end of the header"
	}
	rest := p.s[p.i:]
	if len(rest) > 12 {
		rest = rest[:12] + "…"
	}
	return fmt.Sprintf("at %q", rest)
}

func (p *lexer) space() {
	for !p.done() && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *lexer) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

// word consumes w when it is the next identifier.
func (p *lexer) word(w string) bool {
	if !strings.HasPrefix(p.s[p.i:], w) {
		return false
	}
	if j := p.i + len(w); j < len(p.s) && isIdent(p.s[j]) {
		return false
	}
	p.i += len(w)
	return true
}

func isIdent(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// str reads a quoted string ('…' or "…"); escapes are refused (no dtype string needs one).
func (p *lexer) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("expected a quoted string (%s)", p.near())
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("a string has no closing quote")
	}
	s := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(s, '\\') >= 0 {
		return "", fmt.Errorf("the string %q holds an escape", s)
	}
	p.i += end + 2
	return s, nil
}

// shape reads a tuple of non-negative integers: (), (3,), (2, 3) (also (3) and Python 2's 3L).
func (p *lexer) shape() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("not a tuple (%s)", p.near())
	}
	shape := []int{}
	for {
		p.space()
		if p.eat(')') {
			return shape, nil
		}
		d, err := p.dim()
		if err != nil {
			return nil, err
		}
		shape = append(shape, d)
		if len(shape) > 64 {
			return nil, errors.New("more than 64 dimensions (NumPy's limit)")
		}
		p.space()
		if p.eat(')') {
			return shape, nil
		}
		if !p.eat(',') {
			return nil, fmt.Errorf("expected ',' or ')' in the tuple (%s)", p.near())
		}
	}
}

// dim reads one dimension of a shape.
func (p *lexer) dim() (int, error) {
	if p.peek() == '-' {
		return 0, fmt.Errorf("negative dimension (%s)", p.near())
	}
	start := p.i
	for !p.done() && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
		p.i++
	}
	digits := p.s[start:p.i]
	if digits == "" {
		return 0, fmt.Errorf("expected a dimension (%s)", p.near())
	}
	p.eat('L') // Python 2 long integers
	d, err := strconv.ParseInt(digits, 10, 0)
	if err != nil {
		return 0, fmt.Errorf("dimension %s overflows an int", digits)
	}
	return int(d), nil
}

// dtype describes how to turn the bytes of one value into a float64.
type dtype struct {
	size int
	// one converts the value at the start of b.
	one func(b []byte) float64
	// le8 marks '<f8', converted by a plain loop.
	le8 bool
}

// convert fills dst from the len(dst) values in b.
func (dt dtype) convert(dst []float64, b []byte) {
	if dt.le8 {
		for i := range dst { // the common case: '<f8'
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return
	}
	for i := range dst {
		dst[i] = dt.one(b[i*dt.size:])
	}
}

// parseDescr turns a descr string such as '<f8', '>i4' or '|u1' into its dtype.
func parseDescr(descr string) (dtype, error) {
	if descr == "" {
		return dtype{}, fmt.Errorf("empty dtype in the header: %s", saveHint)
	}
	var order binary.ByteOrder = binary.LittleEndian
	s := descr
	switch s[0] {
	case '<':
		s = s[1:]
	case '>':
		order, s = binary.BigEndian, s[1:]
	case '=':
		order, s = binary.NativeEndian, s[1:]
	case '|':
		s = s[1:]
	}
	const convert = "convert it with a.astype(numpy.float64) before numpy.save"
	if s == "" {
		return dtype{}, fmt.Errorf("dtype %q has no type: %s", descr, saveHint)
	}
	kind := s[0]
	size, err := strconv.Atoi(s[1:])
	if err != nil || size <= 0 {
		switch kind {
		case 'O':
			return dtype{}, fmt.Errorf("dtype %q is an object (pickled) array, which is not read: %s", descr, convert)
		case 'U', 'S', 'a':
			return dtype{}, fmt.Errorf("dtype %q holds strings, not numbers: %s", descr, convert)
		}
		return dtype{}, fmt.Errorf("dtype %q is not a NumPy type string such as '<f8': %s", descr, saveHint)
	}
	if descr[0] == '|' && size != 1 {
		return dtype{}, fmt.Errorf("dtype %q of %d bytes has no byte order ('|' is for 1-byte types): %s", descr, size, saveHint)
	}
	bad := func(what string) (dtype, error) {
		return dtype{}, fmt.Errorf("dtype %q (%s) is not read: %s", descr, what, convert)
	}
	switch kind {
	case 'f':
		switch size {
		case 2:
			return dtype{size: 2, one: func(b []byte) float64 { return half(order.Uint16(b)) }}, nil
		case 4:
			return dtype{size: 4, one: func(b []byte) float64 { return float64(math.Float32frombits(order.Uint32(b))) }}, nil
		case 8:
			return dtype{size: 8, one: func(b []byte) float64 { return math.Float64frombits(order.Uint64(b)) }, le8: order == binary.LittleEndian}, nil
		}
		return bad(fmt.Sprintf("%d-bit floats; 16-, 32- and 64-bit ones are read", 8*size))
	case 'i':
		switch size {
		case 1:
			return dtype{size: 1, one: func(b []byte) float64 { return float64(int8(b[0])) }}, nil
		case 2:
			return dtype{size: 2, one: func(b []byte) float64 { return float64(int16(order.Uint16(b))) }}, nil
		case 4:
			return dtype{size: 4, one: func(b []byte) float64 { return float64(int32(order.Uint32(b))) }}, nil
		case 8:
			return dtype{size: 8, one: func(b []byte) float64 { return float64(int64(order.Uint64(b))) }}, nil
		}
	case 'u':
		switch size {
		case 1:
			return dtype{size: 1, one: func(b []byte) float64 { return float64(b[0]) }}, nil
		case 2:
			return dtype{size: 2, one: func(b []byte) float64 { return float64(order.Uint16(b)) }}, nil
		case 4:
			return dtype{size: 4, one: func(b []byte) float64 { return float64(order.Uint32(b)) }}, nil
		case 8:
			return dtype{size: 8, one: func(b []byte) float64 { return float64(order.Uint64(b)) }}, nil
		}
	case 'b':
		if size == 1 {
			return dtype{size: 1, one: func(b []byte) float64 {
				if b[0] != 0 {
					return 1
				}
				return 0
			}}, nil
		}
	case 'c':
		return bad("complex numbers")
	case 'M', 'm':
		return bad("dates or time spans")
	case 'V':
		return bad("raw or structured records")
	case 'U', 'S', 'a':
		return bad("strings")
	}
	return dtype{}, fmt.Errorf("dtype %q is not one Read knows (float16/32/64, int8 to int64, uint8 to uint64, bool): %s", descr, convert)
}

// half converts IEEE 754 binary16 bits to a float64.
func half(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}
