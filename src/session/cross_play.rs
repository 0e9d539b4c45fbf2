//! Cross-play (Lowe et al. 2017, §5: MADDPG agents against DDPG agents): the agents of one
//! multi-agent run act with their own policy, the chosen others with another run's, so that two
//! algorithms are compared against the same opponents.

use super::MultiPolicy;
use crate::env::Action;

/// Two runs' policies on one env: agent `i` acts by `guests` where `from_guests[i]`.
pub struct CrossPlay {
    hosts: Box<dyn MultiPolicy>,
    guests: Box<dyn MultiPolicy>,
    from_guests: Vec<bool>,
}

impl CrossPlay {
    pub fn new(
        hosts: Box<dyn MultiPolicy>,
        guests: Box<dyn MultiPolicy>,
        from_guests: Vec<bool>,
    ) -> Self {
        Self {
            hosts,
            guests,
            from_guests,
        }
    }
}

impl MultiPolicy for CrossPlay {
    fn act(&mut self, observations: &[Vec<f32>]) -> Vec<Action<'_>> {
        let hosts = self.hosts.act(observations);
        let guests = self.guests.act(observations);
        hosts
            .into_iter()
            .zip(guests)
            .zip(&self.from_guests)
            .map(|((host, guest), &from_guest)| if from_guest { guest } else { host })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Acts `action` for every agent.
    struct Constant(usize);

    impl MultiPolicy for Constant {
        fn act(&mut self, observations: &[Vec<f32>]) -> Vec<Action<'_>> {
            observations
                .iter()
                .map(|_| Action::Discrete(self.0))
                .collect()
        }
    }

    #[test]
    fn each_agent_acts_by_the_policy_chosen_for_it() {
        let mut play = CrossPlay::new(
            Box::new(Constant(1)),
            Box::new(Constant(4)),
            vec![false, true, true, false],
        );
        let actions = play.act(&vec![vec![0.0]; 4]);
        let got: Vec<usize> = actions
            .iter()
            .map(|a| match a {
                Action::Discrete(i) => *i,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(got, [1, 4, 4, 1]);
    }
}
