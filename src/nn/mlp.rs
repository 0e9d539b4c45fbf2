//! A multilayer perceptron: `Linear` layers with an activation between them.

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation;
use serde::{Deserialize, Serialize};

use super::init::{default_linear, orthogonal_linear};
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
            activation,
            activate_output,
        }
    }

    /// An MLP with no layers: the identity.
    pub fn identity() -> Self {
        Self {
            layers: Vec::new(),
            activation: Activation::Tanh,
            activate_output: false,
        }
    }

    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last || self.activate_output {
                x = self.activation.apply(x);
            }
        }
        x
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
