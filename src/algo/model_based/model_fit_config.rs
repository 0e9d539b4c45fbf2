//! The keys of the learned model and its fitting, shared by learned-dynamics MPC and PETS.

use crate::hyper::hyperparameters;
use crate::model::fit::FitOptions;

hyperparameters! {
    /// The model, its data and its regression (Nagabandi et al. 2018, §IV.A; Chua et al. 2018).
    pub struct ModelFitConfig {
        /// env steps of uniformly random actions before the first fit
        random_steps: u64 = 1000, nonzero;
        /// refit the model to all data collected so far every this many env steps
        fit_every: u64 = 200, nonzero;
        /// passes over the (bootstrapped) data per fit
        epochs: usize = 5, nonzero;
        /// transitions per member per gradient step
        batch_size: usize = 256, nonzero;
        /// Adam step size of the model
        learning_rate: f64 = 1e-3, positive;
        /// hidden layer sizes of each network (ReLU)
        net_arch: Vec<usize> = vec![200, 200], all_nonzero;
    }
}

impl From<&ModelFitConfig> for FitOptions {
    fn from(cfg: &ModelFitConfig) -> Self {
        Self {
            epochs: cfg.epochs,
            batch_size: cfg.batch_size,
            learning_rate: cfg.learning_rate,
        }
    }
}
