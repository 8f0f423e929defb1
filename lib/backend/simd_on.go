//go:build amd64 && goexperiment.simd

package backend

// SIMD is true when this program was built with GOEXPERIMENT=simd on amd64, the build in which
// GoMLX's pure-Go backend compiles its SIMD (AVX2 / AVX-512) matrix-multiplication kernels.
const SIMD = true
