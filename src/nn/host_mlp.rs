//! A multilayer perceptron's forward and backward pass on host memory, for the CPU backends.
//!
//! On flex and ndarray a small network's update spends most of its time outside arithmetic:
//! every tensor operation allocates, autodiff records a node per operation and walks the graph
//! back (issue #22's profile of PPO on CartPole: gemm 31%, the rest bookkeeping). Here the layers
//! are f32 slices, the forward pass keeps what the backward pass needs (each layer's input and
//! each activation's slope), and both passes are a few matrix products through the `gemm` crate,
//! the kernels flex itself calls, with the elementwise work in plain loops:
//!
//! - forward: z_l = h_{l−1} W_l + b_l, h_l = act(z_l) (no activation after the last layer);
//! - backward: ∂W_l = h_{l−1}ᵀ ∂z_l, ∂b_l = Σ_rows ∂z_l, ∂z_{l−1} = (∂z_l W_lᵀ) ⊙ act′(z_{l−1}).

use super::mlp::Activation;
use super::simd::widest;
use super::tanh::tanh_and_slope;

/// One layer: the weight (`d_in × d_out`, row-major, as Burn's `Linear` stores it) and the bias.
#[derive(Clone, Debug, PartialEq)]
pub struct HostLinear {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub d_in: usize,
    pub d_out: usize,
}

/// The gradient of a scalar loss with respect to one layer's weight and bias.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearGrad {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl LinearGrad {
    /// The gradient's values, weight then bias.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut f32> {
        self.weight.iter_mut().chain(self.bias.iter_mut())
    }

    /// The weight's gradient, then the bias's.
    pub fn tensors(&self) -> [&Vec<f32>; 2] {
        [&self.weight, &self.bias]
    }

    /// The weight's gradient, then the bias's, to change.
    pub fn tensors_mut(&mut self) -> [&mut Vec<f32>; 2] {
        [&mut self.weight, &mut self.bias]
    }
}

/// Scales the gradients `grads` by min(1, max_norm / (‖g‖ + 10⁻⁶)), ‖g‖ their global norm
/// (PyTorch's `clip_grad_norm_`, as [`super::clip_grad_norm`]); returns ‖g‖.
pub fn clip_global_norm(grads: Vec<&mut Vec<f32>>, max_norm: f64) -> f64 {
    let mut lanes = [0f64; 8];
    for g in &grads {
        add_squares(g, &mut lanes);
    }
    let norm = lanes.iter().sum::<f64>().sqrt();
    let coef = (max_norm / (norm + 1e-6)).min(1.0) as f32;
    if coef < 1.0 {
        grads.into_iter().flatten().for_each(|g| *g *= coef);
    }
    norm
}

impl HostLinear {
    /// The weight, then the bias (the order Burn visits a `Linear`'s parameters in).
    pub fn tensors_mut(&mut self) -> [&mut Vec<f32>; 2] {
        [&mut self.weight, &mut self.bias]
    }
}

/// An MLP's layers with the activation after every layer but the last (and after the last too
/// when `activate_output`, for a trunk that heads read).
#[derive(Clone, Debug, PartialEq)]
pub struct HostMlp {
    pub layers: Vec<HostLinear>,
    pub activation: Activation,
    pub activate_output: bool,
}

/// What a forward pass leaves for the backward pass, and the buffers both passes write: kept
/// from one minibatch to the next, so that an update allocates them once.
#[derive(Default)]
pub struct Tape {
    batch: usize,
    /// The input of each layer, `batch × d_in` row-major.
    inputs: Vec<Vec<f32>>,
    /// act′(z) of each activated layer, for tanh (ReLU's is read off the layer's output, the next
    /// layer's input: 1 where it is positive).
    slopes: Vec<Vec<f32>>,
    /// The last layer's output.
    output: Vec<f32>,
    /// ∂loss/∂z of the layer being differentiated, and of the one below it: scratch, its
    /// first `batch × d_out` values (see [`scratch`]).
    dz: Vec<f32>,
    dh: Vec<f32>,
}

widest!(
    /// Σx² of `x` in f64 added to eight independent partial sums, x[i] to `lanes[i % 8]` (they
    /// vectorise; one running sum would make every addition wait for the last).
    fn add_squares = add_squares_portable(x: &[f32], lanes: &mut [f64; 8])
);

#[inline(always)]
fn add_squares_portable(x: &[f32], lanes: &mut [f64; 8]) {
    let rows = x.chunks_exact(8);
    let rest = rows.remainder();
    for row in rows {
        for (lane, &x) in lanes.iter_mut().zip(row) {
            *lane += f64::from(x) * f64::from(x);
        }
    }
    for (lane, &x) in lanes.iter_mut().zip(rest) {
        *lane += f64::from(x) * f64::from(x);
    }
}

/// `buf` as `len` zeros, reusing its allocation.
fn zeroed(buf: &mut Vec<f32>, len: usize) {
    buf.clear();
    buf.resize(len, 0.0);
}

/// `buf` resized to `len`, its values left for the caller to overwrite (a product: [`matmul`]
/// writes every element without reading it).
fn sized(buf: &mut Vec<f32>, len: usize) {
    buf.resize(len, 0.0);
}

/// The first `len` values of `buf`, for the caller to overwrite, `buf` grown where shorter and
/// never shrunk (the backward pass's buffers alternate between layer widths: no zeros written
/// again and again).
fn scratch(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

impl HostMlp {
    /// The parameters in the order Burn visits the [`super::Mlp`]'s: each layer's weight, then
    /// its bias.
    pub fn params_mut(&mut self) -> Vec<&mut Vec<f32>> {
        self.layers
            .iter_mut()
            .flat_map(HostLinear::tensors_mut)
            .collect()
    }

    /// The parameters in [`HostMlp::params_mut`]'s order.
    pub fn params(&self) -> Vec<&[f32]> {
        let layers = self.layers.iter();
        layers.flat_map(|l| [&l.weight[..], &l.bias[..]]).collect()
    }

    /// The parameters' values in [`HostMlp::params_mut`]'s order.
    pub fn into_params(mut self) -> Vec<Vec<f32>> {
        self.params_mut().into_iter().map(std::mem::take).collect()
    }

    /// The output (`batch × d_out` of the last layer) for the `batch` rows of `x`.
    pub fn forward<'t>(&self, x: &[f32], batch: usize, tape: &'t mut Tape) -> &'t [f32] {
        let n = self.layers.len();
        tape.batch = batch;
        tape.inputs.resize_with(n, Vec::new);
        let activated = if self.activate_output { n } else { n - 1 };
        tape.slopes.resize_with(activated, Vec::new);
        tape.inputs[0].clear();
        tape.inputs[0].extend_from_slice(x);
        for (i, layer) in self.layers.iter().enumerate() {
            let (below, above) = tape.inputs.split_at_mut(i + 1);
            let z = above.first_mut().unwrap_or(&mut tape.output);
            // z = h W + b: the product, then the bias added (flex's `Linear`, to the bit: gemm
            // accumulating onto the bias would round differently where it takes its
            // matrix-vector path).
            sized(z, batch * layer.d_out);
            matmul(
                z,
                View::rows(&below[i], batch, layer.d_in),
                View::rows(&layer.weight, layer.d_in, layer.d_out),
            );
            if i < activated {
                add_bias_and_activate(self.activation, z, &layer.bias, &mut tape.slopes[i]);
            } else {
                add_bias(z, &layer.bias);
            }
        }
        &tape.output
    }

    /// The gradients of every layer into `grads`, from ∂loss/∂output `d_out` of the forward
    /// pass on `tape`.
    pub fn backward(&self, tape: &mut Tape, d_out: &[f32], grads: &mut Vec<LinearGrad>) {
        self.backpropagate(tape, d_out, Some(grads), None);
    }

    /// ∂loss/∂x into `d_x` (`batch × d_in` of the first layer), from ∂loss/∂output `d_out` of
    /// the forward pass on `tape`: the backward pass without the parameters' gradients, for a
    /// network held fixed that a gradient passes through (∂z_{l−1} = (∂z_l W_lᵀ) ⊙ act′(z_{l−1}),
    /// ∂x = ∂z_1 W_1ᵀ).
    pub fn backward_input(&self, tape: &mut Tape, d_out: &[f32], d_x: &mut Vec<f32>) {
        self.backpropagate(tape, d_out, None, Some(d_x));
    }

    /// [`HostMlp::backward`] and [`HostMlp::backward_input`] in one pass, for a head whose input
    /// is a trunk's output.
    pub fn backward_with_input(
        &self,
        tape: &mut Tape,
        d_out: &[f32],
        grads: &mut Vec<LinearGrad>,
        d_x: &mut Vec<f32>,
    ) {
        self.backpropagate(tape, d_out, Some(grads), Some(d_x));
    }

    /// The backward pass: each layer's gradients into `grads` and ∂loss/∂x into `d_x`, each if
    /// asked for.
    fn backpropagate(
        &self,
        tape: &mut Tape,
        d_out: &[f32],
        mut grads: Option<&mut Vec<LinearGrad>>,
        mut d_x: Option<&mut Vec<f32>>,
    ) {
        let batch = tape.batch;
        let n = self.layers.len();
        if let Some(grads) = grads.as_mut() {
            grads.resize_with(n, || LinearGrad {
                weight: Vec::new(),
                bias: Vec::new(),
            });
        }
        let dz = scratch(&mut tape.dz, d_out.len());
        dz.copy_from_slice(d_out);
        if self.activate_output {
            times_slope(self.activation, dz, &tape.slopes[n - 1], &tape.output);
        }
        for (i, layer) in self.layers.iter().enumerate().rev() {
            let (d_in, d_out) = (layer.d_in, layer.d_out);
            let dz = &tape.dz[..batch * d_out];
            if let Some(grads) = grads.as_mut() {
                let grad = &mut grads[i];
                sized(&mut grad.weight, d_in * d_out);
                matmul(
                    &mut grad.weight,
                    View::rows(&tape.inputs[i], batch, d_in).t(),
                    View::rows(dz, batch, d_out),
                );
                zeroed(&mut grad.bias, d_out);
                add_rows(dz, &mut grad.bias);
            }
            let into = match (i, d_x.as_mut()) {
                (0, None) => break,
                (0, Some(d_x)) => {
                    sized(d_x, batch * d_in);
                    &mut d_x[..]
                }
                _ => scratch(&mut tape.dh, batch * d_in),
            };
            matmul(
                into,
                View::rows(dz, batch, d_out),
                View::rows(&layer.weight, d_in, d_out).t(),
            );
            if i > 0 {
                times_slope(self.activation, into, &tape.slopes[i - 1], &tape.inputs[i]);
                std::mem::swap(&mut tape.dz, &mut tape.dh);
            }
        }
    }
}

/// `z ← act(z + bias)` (`bias` added to every row) for a hidden layer: tanh with the host tanh
/// of [`super::tanh`] (the values Burn's path computes) and `slope ← act′`, ReLU in one pass
/// without slopes ([`times_slope`] reads them off the output).
fn add_bias_and_activate(
    activation: Activation,
    z: &mut [f32],
    bias: &[f32],
    slope: &mut Vec<f32>,
) {
    match activation {
        Activation::Tanh => {
            add_bias(z, bias);
            sized(slope, z.len());
            tanh_and_slope(z, slope);
        }
        Activation::Relu => add_bias_and_relu(z, bias),
    }
}

/// `dh ← dh ⊙ act′(z)` for a hidden layer with output `h` = act(z): tanh's kept `slopes`, or
/// ReLU's 1 where h > 0 (⇔ z > 0), else 0.
fn times_slope(activation: Activation, dh: &mut [f32], slopes: &[f32], h: &[f32]) {
    match activation {
        Activation::Tanh => multiply(dh, slopes),
        Activation::Relu => multiply_by_step(dh, h),
    }
}

widest!(
    /// `z ← max(z + bias, 0)`, `bias` added to every row of `z` (rows of `bias.len()`).
    fn add_bias_and_relu = add_bias_and_relu_portable(z: &mut [f32], bias: &[f32])
);

#[inline(always)]
fn add_bias_and_relu_portable(z: &mut [f32], bias: &[f32]) {
    for row in z.chunks_exact_mut(bias.len()) {
        for (z, &b) in row.iter_mut().zip(bias) {
            let x = *z + b;
            *z = if x > 0.0 { x } else { 0.0 };
        }
    }
}

widest!(
    /// `x ← x ⊙ step(h)`, elementwise: x times 1 where h > 0, times 0 elsewhere.
    fn multiply_by_step = multiply_by_step_portable(x: &mut [f32], h: &[f32])
);

#[inline(always)]
fn multiply_by_step_portable(x: &mut [f32], h: &[f32]) {
    for (x, &h) in x.iter_mut().zip(h) {
        *x *= if h > 0.0 { 1.0 } else { 0.0 };
    }
}

widest!(
    /// `bias` added to every row of `z` (rows of `bias.len()`).
    fn add_bias = add_bias_portable(z: &mut [f32], bias: &[f32])
);

#[inline(always)]
fn add_bias_portable(z: &mut [f32], bias: &[f32]) {
    for row in z.chunks_exact_mut(bias.len()) {
        for (z, &b) in row.iter_mut().zip(bias) {
            *z += b;
        }
    }
}

widest!(
    /// Every row of `rows` (rows of `sum.len()`) added to `sum`, in row order.
    fn add_rows = add_rows_portable(rows: &[f32], sum: &mut [f32])
);

#[inline(always)]
fn add_rows_portable(rows: &[f32], sum: &mut [f32]) {
    for row in rows.chunks_exact(sum.len()) {
        for (s, &x) in sum.iter_mut().zip(row) {
            *s += x;
        }
    }
}

widest!(
    /// `x ← x ⊙ y`, elementwise.
    fn multiply = multiply_portable(x: &mut [f32], y: &[f32])
);

#[inline(always)]
fn multiply_portable(x: &mut [f32], y: &[f32]) {
    for (x, &y) in x.iter_mut().zip(y) {
        *x *= y;
    }
}

/// A matrix in a slice: element (i, j) at `i · row_stride + j · col_stride`.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
}

impl<'a> View<'a> {
    /// `data` as a row-major `rows × cols` matrix.
    fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "a {rows}×{cols} matrix");
        Self {
            data,
            rows,
            cols,
            row_stride: cols as isize,
            col_stride: 1,
        }
    }

    /// The transpose, in the same memory.
    fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// `c ← a b` (every element written, none read); `c` is row-major `a.rows × b.cols`. One
/// thread: the seeds of a run are what runs in parallel.
fn matmul(c: &mut [f32], a: View, b: View) {
    assert_eq!(a.cols, b.rows, "inner dimensions");
    assert_eq!(c.len(), a.rows * b.cols, "the product's size");
    // SAFETY: `View::rows` checked that every element of `a` and `b` lies in its slice (a
    // transpose addresses the same elements), `c` holds the `a.rows × b.cols` product in row-major
    // order, and `c` is borrowed mutably, so it aliases neither input.
    unsafe {
        gemm::gemm(
            a.rows,
            b.cols,
            a.cols,
            c.as_mut_ptr(),
            1,
            b.cols as isize,
            false,
            a.data.as_ptr(),
            a.col_stride,
            a.row_stride,
            b.data.as_ptr(),
            b.col_stride,
            b.row_stride,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2×3 by 3×2, plain and transposed, against the sums written out.
    #[test]
    fn matmul_of_views_and_transposes_is_the_textbook_product() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // [[1,2,3],[4,5,6]]
        let b = [7.0, 8.0, 9.0, 10.0, 11.0, 12.0]; // [[7,8],[9,10],[11,12]]
        let mut c = vec![0.0; 4];
        matmul(&mut c, View::rows(&a, 2, 3), View::rows(&b, 3, 2));
        assert_eq!(c, vec![58.0, 64.0, 139.0, 154.0]);
        // aᵀ a is 3×3 and symmetric: entry (0, 1) = 1·2 + 4·5 = 22.
        let mut ata = vec![0.0; 9];
        let view = View::rows(&a, 2, 3);
        matmul(&mut ata, view.t(), view);
        assert_eq!(
            ata,
            vec![17.0, 22.0, 27.0, 22.0, 29.0, 36.0, 27.0, 36.0, 45.0]
        );
    }

    /// The input gradient against central differences of Σ c ⊙ output in each input.
    #[test]
    fn input_gradient_matches_central_differences() {
        let layer = |d_in: usize, d_out: usize, shift: f32| HostLinear {
            weight: (0..d_in * d_out)
                .map(|i| ((i as f32 * 0.41 + shift).sin()) * 0.7)
                .collect(),
            bias: (0..d_out).map(|i| (i as f32 + shift).cos() * 0.2).collect(),
            d_in,
            d_out,
        };
        let mlp = HostMlp {
            layers: vec![layer(3, 6, 0.2), layer(6, 2, 0.9)],
            activation: Activation::Tanh,
            activate_output: false,
        };
        let mut x = vec![0.4, -0.6, 1.2, -0.3, 0.8, 0.1];
        let c = [0.5, -1.5, 1.0, 0.25];
        let loss = |x: &[f32]| -> f64 {
            let out = mlp.forward(x, 2, &mut Tape::default()).to_vec();
            out.iter().zip(&c).map(|(&o, &c)| f64::from(o * c)).sum()
        };
        let mut tape = Tape::default();
        mlp.forward(&x, 2, &mut tape);
        let mut d_x = Vec::new();
        mlp.backward_input(&mut tape, &c, &mut d_x);
        assert_eq!(d_x.len(), x.len());
        let h = 1e-2f32;
        for i in 0..x.len() {
            x[i] += h;
            let up = loss(&x);
            x[i] -= 2.0 * h;
            let down = loss(&x);
            x[i] += h;
            let numeric = (up - down) / (2.0 * f64::from(h));
            let analytic = f64::from(d_x[i]);
            assert!(
                (analytic - numeric).abs() < 2e-3 * (1.0 + numeric.abs()),
                "input {i}: {analytic} vs {numeric}"
            );
        }
    }

    /// The backward pass against central differences of a scalar loss Σ c ⊙ output, for both
    /// activations and with an activated output (the ReLU net's inputs keep every unit away from
    /// its kink).
    #[test]
    fn backward_matches_central_differences() {
        for (activation, activate_output) in [
            (Activation::Tanh, false),
            (Activation::Relu, false),
            (Activation::Tanh, true),
        ] {
            let layer = |d_in: usize, d_out: usize, shift: f32| HostLinear {
                weight: (0..d_in * d_out)
                    .map(|i| ((i as f32 * 0.37 + shift).sin()) * 0.8)
                    .collect(),
                bias: (0..d_out)
                    .map(|i| (i as f32 * 0.91 + shift).cos() * 0.3)
                    .collect(),
                d_in,
                d_out,
            };
            let mut mlp = HostMlp {
                layers: vec![layer(3, 5, 0.1), layer(5, 4, 0.7), layer(4, 2, 1.3)],
                activation,
                activate_output,
            };
            let x = [0.3, -0.8, 1.1, -0.2, 0.5, 0.9];
            let c = [0.7, -1.2, 0.4, 2.0];
            let loss = |mlp: &HostMlp| -> f64 {
                let mut tape = Tape::default();
                let out = mlp.forward(&x, 2, &mut tape);
                out.iter().zip(&c).map(|(&o, &c)| f64::from(o * c)).sum()
            };
            let mut tape = Tape::default();
            mlp.forward(&x, 2, &mut tape);
            let mut grads = Vec::new();
            mlp.backward(&mut tape, &c, &mut grads);
            let h = 1e-2f32;
            for (l, grad) in grads.iter().enumerate() {
                for i in 0..mlp.layers[l].weight.len() + mlp.layers[l].bias.len() {
                    let n_w = mlp.layers[l].weight.len();
                    let nudge = |mlp: &mut HostMlp, by: f32| {
                        let layer = &mut mlp.layers[l];
                        if i < n_w {
                            layer.weight[i] += by;
                        } else {
                            layer.bias[i - n_w] += by;
                        }
                    };
                    nudge(&mut mlp, h);
                    let up = loss(&mlp);
                    nudge(&mut mlp, -2.0 * h);
                    let down = loss(&mlp);
                    nudge(&mut mlp, h);
                    let numeric = (up - down) / (2.0 * f64::from(h));
                    let analytic = if i < n_w {
                        grad.weight[i]
                    } else {
                        grad.bias[i - n_w]
                    };
                    assert!(
                        (f64::from(analytic) - numeric).abs() < 2e-3 * (1.0 + numeric.abs()),
                        "{activation:?} layer {l} parameter {i}: {analytic} vs {numeric}"
                    );
                }
            }
        }
    }
}
