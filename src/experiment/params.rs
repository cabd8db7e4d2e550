//! Typed experiment parameters: parsing `KEY=VALUE`, ranges, defaults, and the messages a
//! learner sees when a value is out of range.

use std::collections::BTreeMap;
use std::fmt;

use super::ExperimentInfo;

/// The type and allowed values of a parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamKind {
    /// A whole number in `min..=max`. Accepts `1000000`, `1_000_000` and `1e6`.
    Int {
        /// Smallest allowed value.
        min: u64,
        /// Largest allowed value.
        max: u64,
        /// Used when not given.
        default: u64,
    },
    /// A number in `min..=max`.
    Float {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
        /// Used when not given.
        default: f64,
    },
    /// One of a list of words.
    Choice {
        /// The allowed words.
        options: &'static [&'static str],
        /// Used when not given.
        default: &'static str,
    },
    /// Free text of at most `max_len` characters (a command line, a pattern, a label);
    /// what more it must be is checked by the experiment ([`ExperimentInfo::check_together`]).
    Text {
        /// The most characters allowed.
        max_len: usize,
        /// Used when not given.
        default: &'static str,
    },
}

/// A parameter of an experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// Its name in `--param NAME=VALUE`.
    pub name: &'static str,
    /// Type, range and default.
    pub kind: ParamKind,
    /// What it does, in a few words.
    pub help: &'static str,
}

impl ParamSpec {
    /// The allowed values, for messages and help: `1000..=100000000000` or `strong | weak`.
    pub fn allowed(&self) -> String {
        match self.kind {
            ParamKind::Int { min, max, .. } => format!("a whole number from {min} to {max}"),
            ParamKind::Float { min, max, .. } => format!("a number from {min} to {max}"),
            ParamKind::Choice { options, .. } => format!("one of {}", options.join(", ")),
            ParamKind::Text { max_len, .. } => format!("a text of at most {max_len} characters"),
        }
    }

    /// The default, as text.
    pub fn default_text(&self) -> String {
        match self.kind {
            ParamKind::Int { default, .. } => default.to_string(),
            ParamKind::Float { default, .. } => default.to_string(),
            ParamKind::Choice { default, .. } | ParamKind::Text { default, .. } => {
                default.to_owned()
            }
        }
    }

    /// Parses `text` as a value of this parameter.
    pub fn parse(&self, text: &str) -> Result<ParamValue, ParamError> {
        let invalid = || ParamError::Invalid {
            name: self.name.to_owned(),
            given: text.to_owned(),
            allowed: self.allowed(),
        };
        let t = text.trim();
        match self.kind {
            ParamKind::Int { min, max, .. } => {
                let v = parse_whole(t).ok_or_else(invalid)?;
                if v < min || v > max {
                    return Err(invalid());
                }
                Ok(ParamValue::Int(v))
            }
            ParamKind::Float { min, max, .. } => {
                let v: f64 = t.parse().map_err(|_| invalid())?;
                if !v.is_finite() || v < min || v > max {
                    return Err(invalid());
                }
                Ok(ParamValue::Float(v))
            }
            ParamKind::Choice { options, .. } => options
                .iter()
                .find(|o| **o == t)
                .map(|o| ParamValue::Choice((*o).to_owned()))
                .ok_or_else(invalid),
            ParamKind::Text { max_len, .. } => {
                if t.chars().count() > max_len || t.chars().any(char::is_control) {
                    return Err(invalid());
                }
                Ok(ParamValue::Text(t.to_owned()))
            }
        }
    }

    fn default_value(&self) -> ParamValue {
        match self.kind {
            ParamKind::Int { default, .. } => ParamValue::Int(default),
            ParamKind::Float { default, .. } => ParamValue::Float(default),
            ParamKind::Choice { default, .. } => ParamValue::Choice(default.to_owned()),
            ParamKind::Text { default, .. } => ParamValue::Text(default.to_owned()),
        }
    }
}

/// `1000000`, `1_000_000` or `1e6` (an exact whole number).
fn parse_whole(t: &str) -> Option<u64> {
    let t = t.replace('_', "");
    if let Ok(v) = t.parse::<u64>() {
        return Some(v);
    }
    if t.contains(['e', 'E']) {
        let f: f64 = t.parse().ok()?;
        // Only exact whole numbers below 2^53, where f64 is exact.
        if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 9_007_199_254_740_992.0 {
            return Some(f as u64);
        }
    }
    None
}

/// A parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A whole number.
    Int(u64),
    /// A number.
    Float(f64),
    /// A word from the list.
    Choice(String),
    /// Free text.
    Text(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v}"),
            ParamValue::Choice(v) | ParamValue::Text(v) => f.write_str(v),
        }
    }
}

/// What is wrong with a parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// No such parameter.
    #[error("unknown parameter `{name}` for {experiment} (known: {known})")]
    Unknown {
        /// What was given.
        name: String,
        /// The experiment.
        experiment: String,
        /// Its parameters.
        known: String,
    },
    /// A value outside the allowed ones.
    #[error("parameter `{name}`: `{given}` is not allowed; expected {allowed}")]
    Invalid {
        /// The parameter.
        name: String,
        /// What was given.
        given: String,
        /// What is allowed.
        allowed: String,
    },
    /// Not `KEY=VALUE`.
    #[error("--param `{0}`: expected KEY=VALUE")]
    Syntax(String),
    /// The same parameter given twice.
    #[error("parameter `{name}` is given twice (`{first}`, then `{second}`); give it once")]
    Repeated {
        /// The parameter.
        name: String,
        /// The first pair that set it.
        first: String,
        /// The second.
        second: String,
    },
    /// The experiment takes no parameters in this version.
    #[error("experiment `{0}` cannot run in this version of hpc-tutor")]
    NotRunnable(String),
}

/// Every parameter of an experiment with its value (given or default).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params {
    values: BTreeMap<String, ParamValue>,
}

impl Params {
    /// Parses `KEY=VALUE` pairs for `experiment`, filling in defaults. A key given twice
    /// is an error: which of two values was meant is not for the tutor to guess.
    pub fn parse(experiment: &ExperimentInfo, pairs: &[String]) -> Result<Self, ParamError> {
        if !experiment.runnable() {
            return Err(ParamError::NotRunnable(experiment.name.to_owned()));
        }
        let mut values: BTreeMap<String, ParamValue> = experiment
            .params
            .iter()
            .map(|p| (p.name.to_owned(), p.default_value()))
            .collect();
        let mut given: BTreeMap<&str, &String> = BTreeMap::new();
        for pair in pairs {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| ParamError::Syntax(pair.clone()))?;
            let k = k.trim();
            if let Some(first) = given.insert(k, pair) {
                return Err(ParamError::Repeated {
                    name: k.to_owned(),
                    first: first.clone(),
                    second: pair.clone(),
                });
            }
            let spec = experiment
                .params
                .iter()
                .find(|p| p.name == k)
                .ok_or_else(|| ParamError::Unknown {
                    name: k.to_owned(),
                    experiment: experiment.name.to_owned(),
                    known: experiment
                        .params
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            values.insert(k.to_owned(), spec.parse(v)?);
        }
        let p = Self { values };
        experiment.check_together(&p)?;
        Ok(p)
    }

    /// A whole-number parameter.
    pub fn int(&self, name: &str) -> Option<u64> {
        match self.values.get(name)? {
            ParamValue::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// A number parameter.
    pub fn float(&self, name: &str) -> Option<f64> {
        match self.values.get(name)? {
            ParamValue::Float(v) => Some(*v),
            ParamValue::Int(v) => Some(*v as f64),
            ParamValue::Choice(_) | ParamValue::Text(_) => None,
        }
    }

    /// A choice parameter.
    pub fn choice(&self, name: &str) -> Option<&str> {
        match self.values.get(name)? {
            ParamValue::Choice(v) => Some(v),
            _ => None,
        }
    }

    /// A text parameter.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.values.get(name)? {
            ParamValue::Text(v) => Some(v),
            _ => None,
        }
    }

    /// Every value as text, for the run record and for `--param` arguments.
    pub fn to_strings(&self) -> BTreeMap<String, String> {
        self.values
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::find;

    fn mc() -> &'static ExperimentInfo {
        find("mc-pi").expect("registered")
    }

    #[test]
    fn defaults_and_overrides() {
        let p = Params::parse(mc(), &[]).expect("defaults");
        assert_eq!(p.int("samples"), Some(200_000_000));
        assert_eq!(p.choice("mode"), Some("strong"));
        let p = Params::parse(mc(), &["samples=1e6".into(), "mode=weak".into()]).expect("ok");
        assert_eq!(p.int("samples"), Some(1_000_000));
        assert_eq!(p.choice("mode"), Some("weak"));
        let p = Params::parse(mc(), &["samples=2_000_000".into()]).expect("ok");
        assert_eq!(p.int("samples"), Some(2_000_000));
    }

    #[test]
    fn bad_values_name_the_parameter_and_the_range() {
        let e = Params::parse(mc(), &["samples=10".into()]).expect_err("too small");
        assert_eq!(
            e.to_string(),
            "parameter `samples`: `10` is not allowed; expected a whole number from 1000 to 100000000000"
        );
        let e = Params::parse(mc(), &["mode=sideways".into()]).expect_err("bad choice");
        assert_eq!(
            e.to_string(),
            "parameter `mode`: `sideways` is not allowed; expected one of strong, weak"
        );
        let e = Params::parse(mc(), &["colour=red".into()]).expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "unknown parameter `colour` for mc-pi (known: samples, mode, seed)"
        );
        assert!(matches!(
            Params::parse(mc(), &["samples".into()]),
            Err(ParamError::Syntax(_))
        ));
        assert!(Params::parse(mc(), &["samples=1500.5".into()]).is_err());
        let e =
            Params::parse(mc(), &["samples=1e6".into(), " samples=2e6".into()]).expect_err("twice");
        assert_eq!(
            e.to_string(),
            "parameter `samples` is given twice (`samples=1e6`, then ` samples=2e6`); give it once"
        );
        let integral = find("integral").expect("registered");
        let e = Params::parse(integral, &["a=5".into(), "b=1".into()]).expect_err("a >= b");
        assert!(e.to_string().contains("greater than a = 5"), "{e}");
    }
}
