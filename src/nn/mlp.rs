//! A multilayer perceptron: `Linear` layers with an activation between them, optionally with
//! layer normalisation.

use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::activation;
use serde::{Deserialize, Serialize};

use super::host_mlp::{HostLinear, HostMlp, LinearGrad};
use super::host_policy::register;
use super::init::{default_linear, orthogonal_linear};
use super::to_vec;
use crate::rng::Rng;

/// The nonlinearity between layers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// tanh, Stable-Baselines3's default for on-policy networks.
    #[default]
    Tanh,
    Relu,
}

impl Activation {
    pub fn apply<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Tanh => super::tanh::tanh(x),
            Activation::Relu => activation::relu(x),
        }
    }

    /// The orthogonal-init gain of hidden layers followed by this activation (√2 for both, as
    /// OpenAI Baselines and SB3 use).
    pub fn hidden_gain(self) -> f64 {
        std::f64::consts::SQRT_2
    }
}

/// How layers are initialised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Orthogonal weights: `hidden_gain` for hidden layers, `output_gain` for the last one.
    Orthogonal { output_gain: f64 },
    /// PyTorch's default uniform initialisation.
    Default,
}

/// `sizes[0] → sizes[1] → … → sizes[n]`, with the activation after every layer but the last
/// (and after the last too when `activate_output`, for a shared trunk).
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
    /// Layer normalisation (Ba et al. 2016) of the input, then of each activated layer's output
    /// ([`Mlp::with_layer_norm`]); empty when off.
    norms: Vec<LayerNorm>,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    activate_output: bool,
}

impl Mlp {
    pub fn new(
        sizes: &[usize],
        activation: Activation,
        activate_output: bool,
        init: Init,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let n = sizes.len().saturating_sub(1);
        let layers = (0..n)
            .map(|i| {
                let (d_in, d_out) = (sizes[i], sizes[i + 1]);
                match init {
                    Init::Orthogonal { output_gain } => {
                        let gain = if i + 1 == n && !activate_output {
                            output_gain
                        } else {
                            activation.hidden_gain()
                        };
                        orthogonal_linear(d_in, d_out, gain, rng, device)
                    }
                    Init::Default => default_linear(d_in, d_out, rng, device),
                }
            })
            .collect();
        Self {
            layers,
            norms: Vec::new(),
            activation,
            activate_output,
        }
    }

    /// An MLP with no layers: the identity.
    pub fn identity() -> Self {
        Self {
            layers: Vec::new(),
            norms: Vec::new(),
            activation: Activation::Tanh,
            activate_output: false,
        }
    }

    /// This MLP with layer normalisation (Ba et al. 2016; γ = 1, β = 0, ε = 1e-5) of its input
    /// and after each activation, as the MAPPO code's `MLPBase` (`use_feature_normalization`,
    /// then `Linear → ReLU → LayerNorm` per hidden layer; Yu et al. 2022). No layers: unchanged.
    pub fn with_layer_norm(mut self, device: &Device) -> Self {
        let Some(first) = self.layers.first() else {
            return self;
        };
        let last = self.layers.len() - 1;
        let mut widths = vec![first.weight.dims()[0]];
        for (i, layer) in self.layers.iter().enumerate() {
            if i < last || self.activate_output {
                widths.push(layer.weight.dims()[1]);
            }
        }
        self.norms = widths
            .into_iter()
            .map(|d| LayerNormConfig::new(d).init(device))
            .collect();
        self
    }

    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        if let Some(norm) = self.norms.first() {
            x = norm.forward(x);
        }
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last || self.activate_output {
                x = self.activation.apply(x);
                if let Some(norm) = self.norms.get(i + 1) {
                    x = norm.forward(x);
                }
            }
        }
        x
    }

    /// Whether this MLP has no layers.
    pub fn is_identity(&self) -> bool {
        self.layers.is_empty()
    }

    /// The layers on the host ([`HostMlp`]); `None` with layer normalisation or a layer
    /// without bias, which the host pass does not have.
    pub fn to_host(&self) -> Option<HostMlp> {
        if !self.norms.is_empty() || self.layers.is_empty() {
            return None;
        }
        let layers = self
            .layers
            .iter()
            .map(|layer| {
                let [d_in, d_out] = layer.weight.dims();
                Some(HostLinear {
                    weight: to_vec(layer.weight.val()),
                    bias: to_vec(layer.bias.as_ref()?.val()),
                    d_in,
                    d_out,
                })
            })
            .collect::<Option<_>>()?;
        Some(HostMlp {
            layers,
            activation: self.activation,
            activate_output: self.activate_output,
        })
    }

    /// Registers host gradients of the layers (in [`Mlp::to_host`]'s order) on `device`.
    pub fn register_grads(
        &self,
        grads: &[LinearGrad],
        into: &mut GradientsParams,
        device: &Device,
    ) {
        for (layer, grad) in self.layers.iter().zip(grads) {
            register(into, &layer.weight, &grad.weight, device);
            if let Some(bias) = &layer.bias {
                register(into, bias, &grad.bias, device);
            }
        }
    }

    /// The forward pass and its directional derivative, forward-mode (a Jacobian-vector
    /// product; Pearlmutter 1994 calls it R{·}): with the parameters moved along
    /// `tangent(layer) = (dW, db)` and the input along `dx` (`None`: the input is fixed), each
    /// layer's `y = x W + b` moves by `dx W + x dW + db`, and its activation's output by
    /// `act'(y) ⊙ dy`. Returns `(output, d output)`; `None` only for the identity with no `dx`.
    pub fn jvp(
        &self,
        mut x: Tensor<2>,
        mut dx: Option<Tensor<2>>,
        tangent: &mut dyn FnMut(&Linear) -> (Tensor<2>, Option<Tensor<1>>),
    ) -> (Tensor<2>, Option<Tensor<2>>) {
        assert!(
            self.norms.is_empty(),
            "no forward-mode derivative through layer normalisation"
        );
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            let (d_weight, d_bias) = tangent(layer);
            let mut dy = x.clone().matmul(d_weight);
            if let Some(dx) = dx {
                dy = dy + dx.matmul(layer.weight.val());
            }
            if let Some(db) = d_bias {
                dy = dy + db.unsqueeze_dim::<2>(0);
            }
            let y = layer.forward(x);
            if i < last || self.activate_output {
                x = self.activation.apply(y.clone());
                dy = match self.activation {
                    // tanh' = 1 − tanh².
                    Activation::Tanh => dy * x.clone().square().neg().add_scalar(1.0),
                    Activation::Relu => dy * y.greater_elem(0.0).float(),
                };
            } else {
                x = y;
            }
            dx = Some(dy);
        }
        (x, dx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::to_vec;
    use crate::rng::{Stream, stream};

    /// One linear layer 3 → 2 after the input's layer norm: y = LN(x) W + b with LN(x) =
    /// (x − mean) / √(var + ε) (γ = 1, β = 0); x = (1, 2, 3) has mean 2 and variance 2/3.
    #[test]
    fn layer_norm_standardises_the_input_of_the_first_layer() {
        let device = Device::flex();
        let mlp = Mlp::new(
            &[3, 2],
            Activation::Relu,
            false,
            Init::Default,
            &mut stream(0, Stream::Init),
            &device,
        )
        .with_layer_norm(&device);
        assert_eq!(
            mlp.norms.len(),
            1,
            "the input's norm only: the output is not activated"
        );
        let x = Tensor::<2>::from_floats([[1.0, 2.0, 3.0]], &device);
        let got = to_vec(mlp.forward(x).reshape([2]));
        let s = 1.0 / (2.0f32 / 3.0 + 1e-5).sqrt();
        let normed = [-s, 0.0, s];
        let w = to_vec(mlp.layers[0].weight.val().reshape([6]));
        let b = to_vec(mlp.layers[0].bias.as_ref().unwrap().val());
        for j in 0..2 {
            let want: f32 = (0..3).map(|i| normed[i] * w[i * 2 + j]).sum::<f32>() + b[j];
            assert!(
                (got[j] - want).abs() < 1e-5,
                "output {j}: {} vs {want}",
                got[j]
            );
        }
    }

    /// With hidden layers, each activation is normalised: its rows have mean 0 and variance 1.
    #[test]
    fn layer_norm_follows_every_activation() {
        let device = Device::flex();
        let mlp = Mlp::new(
            &[4, 8, 8],
            Activation::Relu,
            true,
            Init::Orthogonal { output_gain: 1.0 },
            &mut stream(1, Stream::Init),
            &device,
        )
        .with_layer_norm(&device);
        assert_eq!(mlp.norms.len(), 3);
        let x = Tensor::<2>::from_floats([[0.5, -1.0, 2.0, 0.1], [3.0, 0.2, -0.7, 1.5]], &device);
        let out = to_vec(mlp.forward(x));
        for row in out.chunks(8) {
            let mean = row.iter().sum::<f32>() / 8.0;
            let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 8.0;
            assert!(
                mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-3,
                "{mean} {var}"
            );
        }
    }
}
