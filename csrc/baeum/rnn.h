// rnn.h — whole-sequence SimpleRNN / LSTM / GRU forward and backward (Keras semantics and
// weight layouts), one call per sequence. Equations in rnn.cpp and docs/rnn.md.
//
// Glossary: N batch, T timesteps, F input features, U units, G gates (SimpleRNN 1, LSTM 4,
// GRU 3), GU = G·U, CW = cache width per (n, t) (SimpleRNN U, LSTM 5U, GRU 4U).
// s = processing step (0..T−1); t = input time of step s (s, or T−1−s with go_backwards).
//
// Buffers (all float32, row-major):
//   inp (N, T, F)           weight (F, GU) Keras `kernel`   rweight (U, GU) `recurrent_kernel`
//   bias: SimpleRNN (U), LSTM (4U), GRU reset_after (2, 3U) [input row, recurrent row],
//         GRU reset_before (3U); null without bias
//   h0, c0 (N, U) initial states or null (zeros)       mask (N, T) uint8 by input time, or null
//   rmask (N, U) recurrent dropout (SimpleRNN, LSTM): the product uses (h ⊙ rmask)·R, or null
//   hs (N, T, U)   state h after step s (processing order = Keras return_sequences order)
//   cs (N, T, U)   LSTM cell state c after step s (null for the other cells)
//   cache (N, T, CW) by input time t, what backward needs:
//     SimpleRNN [h̃]                    (activation output before masking)
//     LSTM      [i, f, g, o, act(c)]   (gate activations, act of the new cell state)
//     GRU       [z, r, ĥ, m]           m = h_{s−1}·U_h + b_h (reset_after) or r⊙h_{s−1} (before)
#pragma once
#include <cstdint>

#include "baeum/elementwise.h"

namespace baeum {

enum class Cell : int { simple_rnn = 0, lstm = 1, gru = 2, gru_reset_before = 3 };

int64_t rnn_gates(Cell cell);
int64_t rnn_cache_width(Cell cell, int64_t U);

// One input-projection GEMM for all timesteps, then per step a recurrent product and one
// fused gate pass, batch rows split across threads (rows are independent through time).
void rnn_forward(Cell cell, float* hs, float* cs, float* cache, const float* inp,
                 const float* weight, const float* rweight, const float* bias, const float* h0,
                 const float* c0, const uint8_t* mask, const float* rmask, int64_t N, int64_t T,
                 int64_t F, int64_t U, Act act, Act ract, bool go_backwards);

// Backward through time. dhs (N, T, U) = ∂L/∂hs; dc_last (N, U) = ∂L/∂c_T or null (LSTM).
// Accumulates dweight (F, GU), drweight (U, GU), dbias (as bias) after the time loop as
// large GEMMs; overwrites dinp (N, T, F), dh0, dc0 (N, U) when not null.
void rnn_backward(Cell cell, float* dinp, float* dweight, float* drweight, float* dbias,
                  float* dh0, float* dc0, const float* dhs, const float* dc_last,
                  const float* inp, const float* weight, const float* rweight, const float* h0,
                  const float* c0, const uint8_t* mask, const float* rmask, const float* hs,
                  const float* cs,
                  const float* cache, int64_t N, int64_t T, int64_t F, int64_t U, Act act,
                  Act ract, bool go_backwards);

// Per-gate dropout masks (Keras implementation 1, LSTM / GRU with recurrent_dropout > 0):
// gmask (G, N, U) one recurrent mask per gate, xmask (G, N, F) one input mask per gate, each
// fixed for the sequence (null = all ones). Gate k's pre-activation uses (x_t ⊙ xmask[k])·W_k
// and (h_{s−1} ⊙ gmask[k])·R_k (GRU reset_before: ĥ from (r ⊙ h_{s−1} ⊙ gmask[2])·R_h; the
// GRU update z ⊙ h_{s−1} is unmasked). Cell: lstm, gru or gru_reset_before. Other buffers,
// the cache layout and the accumulate / overwrite rules are those of rnn_forward / backward.
void rnn_gatemask_forward(Cell cell, float* hs, float* cs, float* cache, const float* inp,
                          const float* weight, const float* rweight, const float* bias,
                          const float* h0, const float* c0, const uint8_t* mask,
                          const float* gmask, const float* xmask, int64_t N, int64_t T,
                          int64_t F, int64_t U, Act act, Act ract, bool go_backwards);

void rnn_gatemask_backward(Cell cell, float* dinp, float* dweight, float* drweight, float* dbias,
                           float* dh0, float* dc0, const float* dhs, const float* dc_last,
                           const float* inp, const float* weight, const float* rweight,
                           const float* h0, const float* c0, const uint8_t* mask,
                           const float* gmask, const float* xmask, const float* hs,
                           const float* cs, const float* cache, int64_t N, int64_t T, int64_t F,
                           int64_t U, Act act, Act ract, bool go_backwards);

}  // namespace baeum
