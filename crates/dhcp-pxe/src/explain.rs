//! Explanations of policy decisions: which rule was chosen and why the others were not.

use std::fmt;

/// What happened to one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// This rule was chosen.
    Chosen,
    /// The match failed, for these reasons (every failed criterion).
    NotMatched(Vec<String>),
    /// The match held but the action has no usable target for this client.
    Unusable(String),
    /// An earlier rule was chosen.
    NotReached,
}

/// The verdict on one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Rule name.
    pub rule: String,
    /// What happened.
    pub outcome: Outcome,
}

/// The story of one decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// A one-line summary of the client (firmware, MAC, architecture).
    pub client: String,
    /// One verdict per rule, in rule order.
    pub verdicts: Vec<Verdict>,
}

impl Explanation {
    /// The name of the chosen rule.
    pub fn chosen(&self) -> Option<&str> {
        self.verdicts
            .iter()
            .find(|v| v.outcome == Outcome::Chosen)
            .map(|v| v.rule.as_str())
    }
}

impl fmt::Display for Explanation {
    /// One line for the client, then one line per rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "client: {}", self.client)?;
        for v in &self.verdicts {
            match &v.outcome {
                Outcome::Chosen => writeln!(f, "  {}: chosen", v.rule)?,
                Outcome::NotMatched(why) => {
                    writeln!(f, "  {}: no match: {}", v.rule, why.join("; "))?;
                }
                Outcome::Unusable(why) => writeln!(f, "  {}: matched but unusable: {why}", v.rule)?,
                Outcome::NotReached => writeln!(f, "  {}: not reached", v.rule)?,
            }
        }
        if self.chosen().is_none() {
            writeln!(f, "  => no rule chosen")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_verdict() {
        let e = Explanation {
            client: "BIOS PXE".into(),
            verdicts: vec![
                Verdict {
                    rule: "a".into(),
                    outcome: Outcome::NotMatched(vec!["x".into(), "y".into()]),
                },
                Verdict {
                    rule: "b".into(),
                    outcome: Outcome::Chosen,
                },
                Verdict {
                    rule: "c".into(),
                    outcome: Outcome::NotReached,
                },
            ],
        };
        assert_eq!(e.chosen(), Some("b"));
        assert_eq!(
            e.to_string(),
            "client: BIOS PXE\n  a: no match: x; y\n  b: chosen\n  c: not reached\n"
        );
    }
}
