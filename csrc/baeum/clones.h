// clones.h — BAEUM_CLONES: compile a hot loop for AVX-512, AVX2 and baseline x86-64, and
// let the loader pick the clone this CPU runs (GCC target_clones).
//
// Why: the build targets baseline x86-64 (SSE2) so one wheel runs everywhere; a streaming
// loop (batch-norm sums, a short-row softmax, a ReLU/bias sweep) handles 2–4× more floats per
// instruction in its AVX2 / AVX-512 clone. A file that uses it for floating-point arithmetic
// is compiled with -ffp-contract=off (CMakeLists.txt), so every clone rounds like the SSE2
// code and results do not depend on the CPU.
#pragma once

#if defined(BAEUM_X86) && defined(__GNUC__) && !defined(__clang__)
#define BAEUM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BAEUM_CLONES
#endif
