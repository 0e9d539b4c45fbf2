use crate::env::*;
#[derive(Clone)]
pub struct Pendulum;
impl Pendulum {
    pub fn new(_x: impl std::any::Any) -> Self {
        todo!()
    }
}
impl Env for Pendulum {
    fn spec(&self) -> &EnvSpec {
        todo!()
    }
    fn reset(&mut self, _s: Option<u64>, _o: &mut [f32]) {
        todo!()
    }
    fn step(&mut self, _a: Action<'_>, _o: &mut [f32]) -> Step {
        todo!()
    }
    fn state(&self) -> Vec<f64> {
        todo!()
    }
    fn set_state(&mut self, _s: &[f64], _o: &mut [f32]) {
        todo!()
    }
    fn clone_box(&self) -> Box<dyn Env> {
        todo!()
    }
}
