package npy

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/scoresde/scoresde/lib/npy/npytest"
)

// file and rawFile build .npy files byte by byte (npytest.File and npytest.Raw).
var file, rawFile = npytest.File, npytest.Raw

// f8 is the little-endian float64 bytes of vs.
func f8(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// hdr is the header NumPy writes for descr, fortran order and a shape tuple.
func hdr(descr string, fortran bool, shape string) string {
	f := "False"
	if fortran {
		f = "True"
	}
	return "{'descr': '" + descr + "', 'fortran_order': " + f + ", 'shape': " + shape + ", }"
}

// validCase is a well-formed file and the values and shape Read must return.
type validCase struct {
	name  string
	file  []byte
	want  []float64
	shape []int
}

// validCases covers NumPy's layouts: versions, key orders, spacing, dtypes, byte orders,
// Fortran order, scalars and empty arrays.
func validCases() []validCase {
	be8 := func(vs ...float64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	le4 := func(vs ...float32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	be4 := func(vs ...float32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.BigEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	i64 := func(vs ...int64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
		return b
	}
	i32be := func(vs ...int32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.BigEndian.AppendUint32(b, uint32(v))
		}
		return b
	}
	i16 := func(vs ...int16) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		}
		return b
	}
	six := []float64{1, 2, 3, 4, 5, 6}
	return []validCase{
		{"f8-2x3", file(1, hdr("<f8", false, "(2, 3)"), f8(six...)), six, []int{2, 3}},
		{"f8-1d", file(1, hdr("<f8", false, "(3,)"), f8(1, 2, 3)), []float64{1, 2, 3}, []int{3}},
		{"f8-scalar", file(1, hdr("<f8", false, "()"), f8(7)), []float64{7}, []int{}},
		{"f8-empty", file(1, hdr("<f8", false, "(0, 2)"), nil), []float64{}, []int{0, 2}},
		{"f8-zero-huge", file(1, hdr("<f8", false, "(0, 9223372036854775807)"), nil), []float64{}, []int{0, math.MaxInt64}},
		{"v2", file(2, hdr("<f8", false, "(2,)"), f8(1, 2)), []float64{1, 2}, []int{2}},
		{"v3", file(3, hdr("<f8", false, "(2,)"), f8(1, 2)), []float64{1, 2}, []int{2}},
		{"shape-first", file(1, "{'shape': (2,), 'fortran_order': False, 'descr': '<f8'}", f8(1, 2)), []float64{1, 2}, []int{2}},
		{"no-spaces", file(1, "{'descr':'<f8','fortran_order':False,'shape':(1,2)}", f8(1, 2)), []float64{1, 2}, []int{1, 2}},
		{"double-quotes", file(1, `{"descr": "<f8", "fortran_order": False, "shape": (2,)}`, f8(1, 2)), []float64{1, 2}, []int{2}},
		{"python2-long", file(1, hdr("<f8", false, "(2L, 1L)"), f8(1, 2)), []float64{1, 2}, []int{2, 1}},
		{"no-padding", rawFile(1, uint32(len(hdr("<f8", false, "(1,)"))+1), hdr("<f8", false, "(1,)")+"\n", f8(5)), []float64{5}, []int{1}},
		{"f8-big-endian", file(1, hdr(">f8", false, "(3,)"), be8(1.5, -2, 1e300)), []float64{1.5, -2, 1e300}, []int{3}},
		{"f4", file(1, hdr("<f4", false, "(3,)"), le4(1.5, -2, 0.25)), []float64{1.5, -2, 0.25}, []int{3}},
		{"f4-big-endian", file(1, hdr(">f4", false, "(2,)"), be4(3, -4)), []float64{3, -4}, []int{2}},
		{"f2", file(1, hdr("<f2", false, "(4,)"), []byte{0x00, 0x3c, 0x00, 0xc0, 0x00, 0x7c, 0x01, 0x00}), []float64{1, -2, math.Inf(1), math.Ldexp(1, -24)}, []int{4}},
		{"i8", file(1, hdr("<i8", false, "(3,)"), i64(-1, 0, 1<<40)), []float64{-1, 0, 1 << 40}, []int{3}},
		{"i4-big-endian", file(1, hdr(">i4", false, "(2,)"), i32be(-7, 9)), []float64{-7, 9}, []int{2}},
		{"i2", file(1, hdr("<i2", false, "(2,)"), i16(-300, 300)), []float64{-300, 300}, []int{2}},
		{"u1", file(1, hdr("|u1", false, "(3,)"), []byte{0, 128, 255}), []float64{0, 128, 255}, []int{3}},
		{"i1", file(1, hdr("|i1", false, "(2,)"), []byte{0xff, 0x7f}), []float64{-1, 127}, []int{2}},
		{"u8", file(1, hdr("<u8", false, "(1,)"), i64(-1)), []float64{math.MaxUint64}, []int{1}},
		{"bool", file(1, hdr("|b1", false, "(3,)"), []byte{1, 0, 2}), []float64{1, 0, 1}, []int{3}},
		{"nan-kept", file(1, hdr("<f8", false, "(2,)"), f8(math.Inf(-1), 1)), []float64{math.Inf(-1), 1}, []int{2}},
		// Fortran order: a = [[1 2 3] [4 5 6]] is stored column by column.
		{"fortran-2x3", file(1, hdr("<f8", true, "(2, 3)"), f8(1, 4, 2, 5, 3, 6)), six, []int{2, 3}},
		{"fortran-2x3x2", file(1, hdr("<f8", true, "(2, 3, 2)"),
			// element (i, j, k) = 100i + 10j + k, stored with i fastest, then j, then k.
			f8(0, 100, 10, 110, 20, 120, 1, 101, 11, 111, 21, 121)),
			[]float64{0, 1, 10, 11, 20, 21, 100, 101, 110, 111, 120, 121}, []int{2, 3, 2}},
		{"fortran-1d", file(1, hdr("<f4", true, "(2,)"), le4(1, 2)), []float64{1, 2}, []int{2}},
	}
}

// badCase is a hostile file and a fragment of the error Read must return.
type badCase struct {
	name string
	file []byte
	want string
}

// badCases covers every way the reader refuses a file.
func badCases() []badCase {
	good := file(1, hdr("<f8", false, "(2,)"), f8(1, 2))
	return []badCase{
		{"empty", nil, "file is empty"},
		{"text", []byte("hello"), "not a NumPy .npy file"},
		{"magic-only", []byte(magic), "cut short inside the preamble"},
		{"wrong-magic", append([]byte("\x93NUMPX\x01\x00"), good[8:]...), "not a NumPy .npy file"},
		{"version-4", append(append([]byte(magic), 4, 0), good[8:]...), "version 4.0 is not supported"},
		{"version-1.1", append(append([]byte(magic), 1, 1), good[8:]...), "version 1.1 is not supported"},
		{"no-header-length", []byte(magic + "\x02\x00\x10"), "cut short before the header length"},
		{"header-4GiB", rawFile(2, math.MaxUint32, "{", nil), "header claims 4294967295 bytes but the file has only"},
		{"header-past-end", rawFile(1, 200, hdr("<f8", false, "(1,)"), nil), "header claims 200 bytes"},
		{"header-too-long", file(2, hdr("<f8", false, "(1,)")+strings.Repeat(" ", MaxHeaderLen), f8(1)), "more than the limit of 1048576"},
		{"no-newline", rawFile(1, uint32(len(hdr("<f8", false, "(1,)"))), hdr("<f8", false, "(1,)"), f8(1)), "does not end in a newline"},
		{"no-closing-brace", file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), ", f8(1)), "no closing '}'"},
		{"no-closing-brace-value", file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)", f8(1)), "no closing '}'"},
		{"no-opening-brace", file(1, "'descr': '<f8'}", f8(1)), "does not start with '{'"},
		{"text-after-brace", file(1, hdr("<f8", false, "(1,)")+" x", f8(1)), "text after the closing '}'"},
		{"unknown-key", file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1}", f8(1)), `unknown key "extra"`},
		{"missing-shape", file(1, "{'descr': '<f8', 'fortran_order': False}", f8(1)), `lacks the key "shape"`},
		{"missing-descr", file(1, "{'fortran_order': False, 'shape': (1,)}", f8(1)), `lacks the key "descr"`},
		{"duplicate-key", file(1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", f8(1)), `"descr" appears twice`},
		{"unterminated-string", file(1, "{'descr: '<f8'}", f8(1)), "no ':' after the key"},
		{"unquoted-key", file(1, "{descr: '<f8'}", f8(1)), "expected a quoted string"},
		{"fortran-not-bool", file(1, "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", f8(1)), "not True or False"},
		{"fortran-Truex", file(1, "{'descr': '<f8', 'fortran_order': Truex, 'shape': (1,)}", f8(1)), "not True or False"},
		{"shape-list", file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': [1]}", f8(1)), "not a tuple"},
		{"shape-negative", file(1, hdr("<f8", false, "(-1, 2)"), f8(1)), "negative dimension"},
		{"shape-unclosed", file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2", f8(1)), "expected ',' or ')'"},
		{"shape-overflow-dim", file(1, hdr("<f8", false, "(99999999999999999999,)"), f8(1)), "overflows an int"},
		{"shape-product-overflow", file(1, hdr("<f8", false, "(4294967296, 4294967296)"), f8(1)), "product of the dimensions overflows"},
		{"shape-65-dims", file(1, hdr("<f8", false, "("+strings.Repeat("1, ", 65)+")"), f8(1)), "more than 64 dimensions"},
		{"truncated-data", file(1, hdr("<f8", false, "(3,)"), f8(1, 2)), "the data is truncated: shape (3,) of <f8 needs 24 bytes, the file holds 16 bytes"},
		{"trailing-data", file(1, hdr("<f8", false, "(1,)"), f8(1, 2)), "8 bytes of trailing data"},
		{"huge-claim-small-file", file(1, hdr("<f8", false, "(1000000000, 1000)"), f8(1)), "the data is truncated"},
		{"descr-complex", file(1, hdr("<c16", false, "(1,)"), make([]byte, 16)), "complex numbers"},
		{"descr-object", file(1, hdr("|O", false, "(1,)"), make([]byte, 8)), "object (pickled) array"},
		{"descr-string", file(1, hdr("<U3", false, "(1,)"), make([]byte, 12)), "strings"},
		{"descr-f16", file(1, hdr("<f16", false, "(1,)"), make([]byte, 16)), "128-bit floats"},
		{"descr-i3", file(1, hdr("<i3", false, "(1,)"), make([]byte, 3)), "not one Read knows"},
		{"descr-pipe-f8", file(1, hdr("|f8", false, "(1,)"), f8(1)), "has no byte order"},
		{"descr-empty", file(1, hdr("", false, "(1,)"), f8(1)), "empty dtype"},
		{"descr-garbage", file(1, hdr("<zz", false, "(1,)"), f8(1)), "not a NumPy type string"},
		{"descr-structured", file(1, "{'descr': [('x', '<f8')], 'fortran_order': False, 'shape': (1,)}", f8(1)), "structured arrays are not supported"},
		{"descr-escape", file(1, `{'descr': '<f\8', 'fortran_order': False, 'shape': (1,)}`, f8(1)), "holds an escape"},
	}
}
