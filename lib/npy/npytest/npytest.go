// Package npytest builds .npy files byte by byte, well-formed or not, for tests of readers
// (the npy package's own, and the hostile-input tests of the commands that read .npy files).
package npytest

import (
	"encoding/binary"
	"strings"
)

// File builds a .npy file of format version major.0 with the header dict hdr (padded with spaces
// to a 64-byte boundary and ended by '\n', as NumPy writes it) and the raw data.
func File(major byte, hdr string, data []byte) []byte {
	prefix := 10
	if major > 1 {
		prefix = 12
	}
	total := prefix + len(hdr) + 1
	hdr += strings.Repeat(" ", (64-total%64)%64) + "\n"
	return Raw(major, uint32(len(hdr)), hdr, data)
}

// Raw builds a .npy file whose header length field says hlen, whatever hdr holds.
func Raw(major byte, hlen uint32, hdr string, data []byte) []byte {
	b := append([]byte("\x93NUMPY"), major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(hlen))
	} else {
		b = binary.LittleEndian.AppendUint32(b, hlen)
	}
	return append(append(b, hdr...), data...)
}
